-- godwit:no-transaction
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tags_name_idx ON tags (name);
CREATE VIRTUAL TABLE IF NOT EXISTS tags_fts USING fts5(name, content=tags, content_rowid=id);
INSERT INTO tags (name) VALUES ('first');
