SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN status text NOT NULL;
ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT NULL;
