-- godwit:no-transaction
SET lock_timeout = '5s';
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_number_idx ON orders (number);
