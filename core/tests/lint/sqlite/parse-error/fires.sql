CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT);
REINDEX notes;
-- The statements after the unreadable one are still linted.
DELETE FROM notes;
