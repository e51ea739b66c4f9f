SET LOCAL lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS staging_users (id bigint PRIMARY KEY, nm text);
ALTER TABLE staging_users RENAME COLUMN nm TO name;
ALTER INDEX users_email_idx RENAME TO users_email_key;
ALTER TABLE users RENAME CONSTRAINT users_check TO users_age_check;
