-- Keep updated_at current. The trigger body holds several statements, each ending in `;`:
-- godwit lets SQLite's parser find where the CREATE TRIGGER statement ends.
CREATE TRIGGER notes_touch AFTER UPDATE OF title, body ON notes
BEGIN
    UPDATE notes
    SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
END;
