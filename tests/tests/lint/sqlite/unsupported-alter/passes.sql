ALTER TABLE users ADD COLUMN bio TEXT;
ALTER TABLE users ADD COLUMN score INTEGER NOT NULL DEFAULT -1;
ALTER TABLE users RENAME COLUMN name TO full_name;
ALTER TABLE users RENAME TO members;
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY);
-- An empty table accepts a non-constant default.
ALTER TABLE events ADD COLUMN created_at TEXT DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE users ADD COLUMN team_id INTEGER DEFAULT NULL REFERENCES teams (id);
ALTER TABLE events ADD COLUMN team_id INTEGER DEFAULT 1 REFERENCES teams (id);
-- SQLite drops a column whose index was dropped before.
CREATE INDEX IF NOT EXISTS users_handle_idx ON users (handle);
DROP INDEX users_handle_idx;
ALTER TABLE users DROP COLUMN handle;
