CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL);
CREATE INDEX tags_name_idx ON tags (name);
