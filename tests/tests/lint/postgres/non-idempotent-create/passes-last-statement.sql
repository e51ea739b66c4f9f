-- godwit:no-transaction
SET lock_timeout = '5s';
-- Nothing after it can fail; when it fails itself, godwit drops the invalid index it leaves
-- before the migration runs again.
CREATE INDEX CONCURRENTLY tags_name_idx ON tags (name);
