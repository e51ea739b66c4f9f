-- godwit:no-transaction
-- Outside a transaction each statement commits on its own: when a later one fails, running the
-- file again fails on what the earlier ones created.
CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL);
CREATE INDEX tags_name_idx ON tags (name);
-- Without a name, running it again builds a second index.
CREATE INDEX ON tags (id, name);
-- The file's own transaction commits before the statement that may fail after it.
BEGIN;
CREATE TABLE labels (id bigint PRIMARY KEY, tag_id bigint REFERENCES tags (id));
CREATE INDEX labels_tag_id_idx ON labels (tag_id);
COMMIT;
INSERT INTO tags (id, name) VALUES (1, 'first');
