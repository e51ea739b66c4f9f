CREATE TABLE IF NOT EXISTS import_batch (id INTEGER PRIMARY KEY, payload TEXT);
INSERT INTO import_batch (id, payload) SELECT id, payload FROM raw_import WHERE imported_at IS NULL;
DROP TABLE import_batch;
DROP VIEW IF EXISTS active_users;
