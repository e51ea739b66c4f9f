SET LOCAL lock_timeout = '5s';
CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
DROP INDEX IF EXISTS orders_legacy_idx;
ALTER TABLE orders ADD CONSTRAINT orders_number_key UNIQUE (number);
-- A materialized view created by an earlier migration is read by the application already.
CREATE INDEX IF NOT EXISTS sales_daily_total ON sales_daily (total);
-- An exclusion constraint builds its index under ACCESS EXCLUSIVE, with no concurrent form.
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
