CREATE TABLE parent (parent_key INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE child (parent_id INTEGER REFERENCES parent (parent_key));
