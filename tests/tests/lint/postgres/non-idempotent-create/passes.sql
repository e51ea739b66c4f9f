-- godwit runs this migration in a transaction: when a statement fails, nothing of it stays,
-- and running it again starts afresh.
CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL);
CREATE INDEX tags_name_idx ON tags (name);
CREATE INDEX ON tags (id, name);
INSERT INTO tags (id, name) VALUES (1, 'first');
