CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT);
REINDEX notes;
-- The statements after the unreadable one are still linted.
DELETE FROM notes;
-- A typo in a trigger's body, which SQLite rejects too; the body's statements belong to the
-- trigger, so nothing in it is linted as a statement of its own.
CREATE TRIGGER IF NOT EXISTS notes_touch AFTER UPDATE ON notes
BEGIN
  UPDTE notes SET body = trim(body) WHERE id = NEW.id;
  DELETE FROM sessions;
END;
-- PostgreSQL's DO block is no SQLite statement.
DO $$ BEGIN PERFORM 1; END $$;
