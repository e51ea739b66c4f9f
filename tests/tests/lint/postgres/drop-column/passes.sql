SET LOCAL lock_timeout = '5s';
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_legacy_check;
CREATE TABLE IF NOT EXISTS drafts (id bigint PRIMARY KEY, scratch text);
ALTER TABLE drafts DROP COLUMN scratch;
