SET LOCAL lock_timeout = '5s';
TRUNCATE sessions;
TRUNCATE TABLE customers CASCADE;
