-- A column added to the table and to its external-content index: the index is created again
-- and refilled from the table, and the triggers on the table come back after its rebuild.
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, content TEXT, tags TEXT);
CREATE VIRTUAL TABLE posts_fts USING fts5(title, content, tags, content=posts, content_rowid=id);
CREATE TRIGGER posts_ai AFTER INSERT ON posts BEGIN
    INSERT INTO posts_fts(rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags);
END;
CREATE TRIGGER posts_ad AFTER DELETE ON posts BEGIN
    INSERT INTO posts_fts(posts_fts, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags);
END;
CREATE TRIGGER posts_au AFTER UPDATE ON posts BEGIN
    INSERT INTO posts_fts(posts_fts, rowid, title, content, tags) VALUES ('delete', old.id, old.title, old.content, old.tags);
    INSERT INTO posts_fts(rowid, title, content, tags) VALUES (new.id, new.title, new.content, new.tags);
END;
