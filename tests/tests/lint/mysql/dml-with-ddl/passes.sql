-- A migration of data alone runs in one transaction.
UPDATE users SET locale = 'en' WHERE country = 'GB';
INSERT INTO audit_log (event) VALUES ('locale backfill');
