CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT);
REINDEX notes;
-- The statements after the unreadable one are still linted.
DELETE FROM notes;
-- sqlparser does not know IF NOT EXISTS on a trigger; the body's statements belong to the
-- trigger, so nothing in it is linted as a statement of its own.
CREATE TRIGGER IF NOT EXISTS notes_touch AFTER UPDATE ON notes
BEGIN
  UPDATE notes SET body = trim(body) WHERE id = NEW.id;
  DELETE FROM sessions;
END;
