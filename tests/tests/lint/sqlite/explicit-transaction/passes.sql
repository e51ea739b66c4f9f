-- godwit:no-transaction
-- The file manages its own transaction, as a table rebuild written by `godwit generate` does:
-- foreign keys are switched off outside it. BEGIN ... END of a trigger is its body, not a
-- transaction.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TRIGGER users_touch AFTER UPDATE ON users
BEGIN
  UPDATE users SET updated_at = strftime('%s', 'now') WHERE id = NEW.id;
END;
COMMIT;
PRAGMA foreign_keys = ON;
