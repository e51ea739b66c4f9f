-- A column added in place: the trigger and the view on the table stay as they are.
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);
CREATE TABLE log (t_id INTEGER, note TEXT);
CREATE TRIGGER t_logged AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.id, new.a); END;
CREATE VIEW named AS SELECT id, a FROM t;
