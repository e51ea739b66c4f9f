CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE child (parent_id INTEGER REFERENCES parent (id));
