-- The ALTER commits implicitly, so the UPDATE runs outside any transaction.
ALTER TABLE users ADD COLUMN locale VARCHAR(8) NULL, ALGORITHM=INSTANT;
UPDATE users SET locale = 'en' WHERE country = 'GB';
UPDATE users SET locale = 'fr' WHERE country = 'FR';
