-- A migration of DML alone runs in godwit's transaction; START TRANSACTION commits it.
START TRANSACTION;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
UPDATE accounts SET balance = balance + 10 WHERE id = 2;
COMMIT;
