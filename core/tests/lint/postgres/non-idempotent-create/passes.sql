CREATE TABLE IF NOT EXISTS tags (id bigint PRIMARY KEY, name text NOT NULL);
CREATE INDEX IF NOT EXISTS tags_name_idx ON tags (name);
