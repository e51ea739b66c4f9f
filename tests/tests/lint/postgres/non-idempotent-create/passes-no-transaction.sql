-- godwit:no-transaction
SET lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS tags (id bigint PRIMARY KEY, name text NOT NULL);
CREATE INDEX CONCURRENTLY IF NOT EXISTS tags_name_idx ON tags (name);
-- The file's own transaction commits with the last statements that can fail.
BEGIN;
CREATE TABLE labels (id bigint PRIMARY KEY, tag_id bigint REFERENCES tags (id));
CREATE INDEX labels_tag_id_idx ON labels (tag_id);
INSERT INTO labels (id, tag_id) SELECT id, id FROM tags;
COMMIT;
-- Settings after it cannot fail.
RESET lock_timeout;
