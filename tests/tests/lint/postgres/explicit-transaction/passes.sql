-- Savepoints stay inside godwit's transaction, and BEGIN ATOMIC ... END is a function body,
-- not transaction control.
SET LOCAL lock_timeout = '5s';
SAVEPOINT before_backfill;
ALTER TABLE users ADD COLUMN a int;
ROLLBACK TO SAVEPOINT before_backfill;
RELEASE SAVEPOINT before_backfill;
CREATE OR REPLACE FUNCTION purge_sessions() RETURNS void
LANGUAGE sql
BEGIN ATOMIC
  DELETE FROM sessions WHERE expires_at < now();
END;
