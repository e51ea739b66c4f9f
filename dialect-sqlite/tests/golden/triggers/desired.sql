CREATE TABLE t (a INTEGER, changed_at TEXT);
CREATE TRIGGER t_stamp AFTER UPDATE OF a ON t BEGIN UPDATE t SET changed_at = datetime('now') WHERE rowid = new.rowid; END;
CREATE TRIGGER t_new AFTER INSERT ON t WHEN new.a < 0 BEGIN SELECT RAISE(ABORT, 'negative; refused'); END;
