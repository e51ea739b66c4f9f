-- Keep a per-user post count; the trigger body has its own semicolons, which godwit leaves to
-- SQLite's parser.
ALTER TABLE users ADD COLUMN post_count INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER posts_count_insert AFTER INSERT ON posts BEGIN
    UPDATE users SET post_count = post_count + 1 WHERE id = NEW.user_id;
END;
