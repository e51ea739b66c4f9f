-- A renamed column makes SQLite check the whole schema while the changed view is gone: the
-- view and the trigger that read it are made again around the change.
CREATE TABLE t (a INTEGER, c INTEGER);
CREATE TABLE u (x INTEGER);
CREATE VIEW changed AS SELECT a, c FROM t;
CREATE VIEW on_changed AS SELECT * FROM changed;
CREATE TRIGGER u_checked BEFORE INSERT ON u WHEN new.x NOT IN (SELECT a FROM changed)
BEGIN SELECT RAISE(ABORT, 'unknown x'); END;
