-- A rebuild drops the old table and its triggers: those that stay are created again on the new
-- one. The view on the table and the trigger on another table that reads it stay as they are.
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, n INTEGER NOT NULL);
CREATE TABLE log (t_id INTEGER, note TEXT);
CREATE TRIGGER t_logged AFTER UPDATE OF a ON t BEGIN INSERT INTO log VALUES (new.id, new.a); END;
CREATE TRIGGER t_gone BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'no deletes'); END;
CREATE TRIGGER log_checked BEFORE INSERT ON log WHEN new.t_id NOT IN (SELECT id FROM t)
BEGIN SELECT RAISE(ABORT, 'no such t'); END;
CREATE VIEW named AS SELECT id, a FROM t;
