-- Add a locale to every user, backfill it, and make it required, all in one go.
ALTER TABLE users ADD COLUMN locale text;

UPDATE users
SET locale = 'en';

ALTER TABLE users ALTER COLUMN locale SET NOT NULL;
