-- Dropping an index of another table's text loses nothing; dropping one with its own does.
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);
