CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);
CREATE VIRTUAL TABLE posts_fts USING fts5(title, content=posts, content_rowid=id);
CREATE VIRTUAL TABLE docs USING fts5(title);
