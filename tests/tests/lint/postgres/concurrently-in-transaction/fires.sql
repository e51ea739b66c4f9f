SET LOCAL lock_timeout = '5s';
DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;
-- sqlparser cannot read REINDEX; its CONCURRENTLY is seen all the same.
REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_at_idx ON orders (created_at);
