-- The same tables, written differently: no change.
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
CREATE VIRTUAL TABLE docs USING FTS5 ( "title" , body, [tags] unindexed , TOKENIZE = "porter  unicode61" );
CREATE VIRTUAL TABLE posts_fts USING fts5(
    title,
    body,
    content_rowid = id,
    content = posts
);
CREATE VIRTUAL TABLE shapes USING rtree( id , minX,maxX );
