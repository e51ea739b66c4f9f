CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
CREATE VIRTUAL TABLE docs USING fts5(title,body,tags UNINDEXED,tokenize='porter unicode61');
CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, content='posts', content_rowid='id', detail=full);
CREATE VIRTUAL TABLE shapes USING rtree(id, minX, maxX);
