DELETE FROM sessions WHERE expires_at < unixepoch();
-- A trigger body's DELETE runs per row, on the trigger's terms, even when sqlparser cannot read
-- the trigger (IF NOT EXISTS).
CREATE TRIGGER IF NOT EXISTS users_logout AFTER UPDATE OF password ON users
BEGIN
  UPDATE users SET updated_at = strftime('%s', 'now') WHERE id = NEW.id;
  DELETE FROM sessions;
END;
