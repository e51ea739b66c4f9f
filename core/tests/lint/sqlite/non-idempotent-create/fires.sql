CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE INDEX tags_name_idx ON tags (name);
