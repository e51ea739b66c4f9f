SET LOCAL lock_timeout = '5s';
-- A staging table created in this migration holds nothing to lose when dropped.
CREATE TABLE IF NOT EXISTS import_batch (id bigint PRIMARY KEY, payload jsonb);
INSERT INTO import_batch (id, payload) SELECT id, payload FROM raw_import WHERE imported_at IS NULL;
UPDATE raw_import SET imported_at = now() WHERE id IN (SELECT id FROM import_batch);
DROP TABLE import_batch;
DROP VIEW IF EXISTS active_users;
-- A table rebuild by the book: every row is copied into the new table, which takes the old
-- one's name.
CREATE TABLE IF NOT EXISTS accounts_new (id bigint PRIMARY KEY, email text NOT NULL);
INSERT INTO accounts_new (id, email) SELECT id, email FROM public.accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
-- Without CASCADE a schema that still holds a table is not dropped at all.
DROP SCHEMA IF EXISTS legacy;
