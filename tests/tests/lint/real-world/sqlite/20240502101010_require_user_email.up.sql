-- Written as if SQLite were PostgreSQL: make email required and unique, add a timestamp.
PRAGMA foreign_keys = OFF;

ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users ADD COLUMN created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP;
CREATE UNIQUE INDEX users_email_key ON users (email);

PRAGMA foreign_keys = ON;
