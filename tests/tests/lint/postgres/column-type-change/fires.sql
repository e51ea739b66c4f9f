SET LOCAL lock_timeout = '5s';
ALTER TABLE users ALTER COLUMN age TYPE bigint;
ALTER TABLE users ALTER COLUMN nickname SET DATA TYPE varchar(80);
