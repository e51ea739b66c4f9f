CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT '') STRICT;
-- A trigger body holds statements and semicolons of its own.
CREATE TRIGGER notes_no_empty BEFORE INSERT ON notes
WHEN NEW.body = ''
BEGIN
    SELECT RAISE(ABORT, 'empty note; write something');
END;
INSERT INTO notes (body) VALUES ('it''s; fine -- really');
-- Pragma values may be bare words or signed numbers.
PRAGMA cache_size = -2000;
PRAGMA main.user_version = 7;
PRAGMA temp_store(MEMORY);
