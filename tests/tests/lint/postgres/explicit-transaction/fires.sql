-- A hand-written transaction inside the one godwit already opened: the COMMIT ends godwit's
-- transaction, so the failure further down leaves column a applied.
SET LOCAL lock_timeout = '5s';
BEGIN;
ALTER TABLE users ADD COLUMN a int;
COMMIT;
START TRANSACTION ISOLATION LEVEL SERIALIZABLE;
ALTER TABLE users ADD COLUMN b int;
END;
ROLLBACK;
