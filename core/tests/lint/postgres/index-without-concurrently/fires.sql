SET LOCAL lock_timeout = '5s';
CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
DROP INDEX IF EXISTS orders_legacy_idx;
ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE (number);
