-- Statements on a table created in this file wait for nobody.
CREATE TABLE IF NOT EXISTS profiles (id bigint PRIMARY KEY);
ALTER TABLE profiles ADD COLUMN bio text;

SET LOCAL lock_timeout = '5s';
ALTER TABLE users ADD COLUMN bio text;
