-- godwit:no-transaction
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
-- A table created in this file is empty: a plain index build is instant.
CREATE TABLE IF NOT EXISTS refunds (id bigint PRIMARY KEY, order_id bigint NOT NULL);
CREATE INDEX IF NOT EXISTS refunds_order_id_idx ON refunds (order_id);
-- Also when sqlparser cannot read the CREATE TABLE (LIKE in its column list).
CREATE TABLE IF NOT EXISTS docs (LIKE docs_template INCLUDING ALL);
CREATE INDEX IF NOT EXISTS docs_body ON docs (body);
