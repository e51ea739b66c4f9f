-- godwit:no-transaction
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
-- A table created in this file is empty: a plain index build is instant.
CREATE TABLE IF NOT EXISTS refunds (id bigint PRIMARY KEY, order_id bigint NOT NULL);
CREATE INDEX IF NOT EXISTS refunds_order_id_idx ON refunds (order_id);
-- Also when sqlparser cannot read the CREATE TABLE (LIKE in its column list).
CREATE TABLE IF NOT EXISTS docs (LIKE docs_template INCLUDING ALL);
CREATE INDEX IF NOT EXISTS docs_body ON docs (body);
-- A materialized view, a CREATE TABLE AS and a SELECT INTO create relations that nobody uses
-- yet either.
CREATE MATERIALIZED VIEW IF NOT EXISTS sales_daily AS
  SELECT date_trunc('day', created_at) AS day, sum(total) AS total FROM orders GROUP BY 1
  WITH NO DATA;
CREATE UNIQUE INDEX IF NOT EXISTS sales_daily_day ON sales_daily (day);
CREATE TABLE IF NOT EXISTS big_orders AS SELECT id, total FROM orders WHERE total > 1000;
CREATE INDEX IF NOT EXISTS big_orders_total ON big_orders (total);
SELECT id, email INTO TABLE archive.users_2024 FROM users WHERE created_at < '2025-01-01';
CREATE INDEX IF NOT EXISTS users_2024_email ON archive.users_2024 (email);
-- On a new table it builds an empty index.
CREATE TABLE IF NOT EXISTS rooms_booked (room int, during tstzrange);
ALTER TABLE rooms_booked ADD CONSTRAINT rooms_booked_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
