-- godwit:no-transaction
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_number_idx ON orders (number);
DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;
