-- godwit:no-transaction
-- Outside a transaction each statement commits on its own: when a later one fails, running the
-- file again fails on what the earlier ones created.
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE INDEX tags_name_idx ON tags (name);
CREATE VIRTUAL TABLE tags_fts USING fts5(name, content=tags, content_rowid=id);
INSERT INTO tags (name) VALUES ('first');
