ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0);
ALTER TABLE users ADD COLUMN handle TEXT UNIQUE;
ALTER TABLE users ADD COLUMN created_at TEXT DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE users ADD COLUMN bio TEXT, ADD COLUMN website TEXT;
CREATE INDEX IF NOT EXISTS users_nickname_idx ON users (nickname);
ALTER TABLE users DROP COLUMN nickname;
ALTER TABLE users DROP COLUMN IF EXISTS legacy_bio;
-- With foreign keys on, a REFERENCES column's default must be NULL once the table has rows.
ALTER TABLE users ADD COLUMN team_id INTEGER DEFAULT 1 REFERENCES teams (id);
-- Two reasons in one statement: one finding that gives both.
CREATE INDEX IF NOT EXISTS users_legacy_idx ON users (legacy_score);
ALTER TABLE users DROP COLUMN IF EXISTS legacy_score;
