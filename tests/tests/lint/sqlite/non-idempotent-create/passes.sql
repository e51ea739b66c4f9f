-- godwit runs this migration in a transaction: when a statement fails, nothing of it stays,
-- and running it again starts afresh.
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE UNIQUE INDEX tags_name_idx ON tags (name);
CREATE VIRTUAL TABLE tags_fts USING fts5(name, content=tags, content_rowid=id);
INSERT INTO tags (name) VALUES ('first');
