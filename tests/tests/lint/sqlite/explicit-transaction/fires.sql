-- SQLite refuses BEGIN inside godwit's transaction; COMMIT would end it part-way.
BEGIN IMMEDIATE;
ALTER TABLE users ADD COLUMN a INTEGER;
COMMIT;
ROLLBACK;
