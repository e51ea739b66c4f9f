-- A new index of a table that has rows already is filled from it.
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, content TEXT);
CREATE VIRTUAL TABLE posts_fts USING fts5(title, content, content=posts, content_rowid=id);
CREATE VIRTUAL TABLE notes_fts USING fts5(body, content=notes);
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
