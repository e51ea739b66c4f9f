CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT '') STRICT;
-- A trigger body holds statements and semicolons of its own.
CREATE TRIGGER notes_no_empty BEFORE INSERT ON notes
WHEN NEW.body = ''
BEGIN
    SELECT RAISE(ABORT, 'empty note; write something');
END;
CREATE TRIGGER IF NOT EXISTS notes_touch AFTER UPDATE ON notes
BEGIN
  UPDATE notes SET body = trim(body) WHERE id = NEW.id;
END;
INSERT INTO notes (body) VALUES ('it''s; fine -- really');
-- Pragma values may be bare words or signed numbers.
PRAGMA cache_size = -2000;
PRAGMA main.user_version = 7;
PRAGMA temp_store(MEMORY);
-- A virtual table's arguments are its module's own: FTS5 options are key=value pairs.
CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(
    body,
    id UNINDEXED,
    content=notes,
    content_rowid=id,
    tokenize='porter unicode61',
    prefix='2 3'
);
CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5(term, content='');
-- Conflict clauses on table constraints, as a rebuild of such a table writes them.
CREATE TABLE IF NOT EXISTS members (
    team_id INTEGER NOT NULL ON CONFLICT FAIL,
    user_id INTEGER NOT NULL,
    email TEXT NOT NULL ON CONFLICT IGNORE,
    PRIMARY KEY (team_id, user_id) ON CONFLICT ROLLBACK,
    UNIQUE (email) ON CONFLICT REPLACE
);
