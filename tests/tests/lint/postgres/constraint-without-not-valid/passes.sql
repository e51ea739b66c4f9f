SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
-- A constraint added NOT VALID in an earlier migration is validated here, on its own.
ALTER TABLE orders VALIDATE CONSTRAINT orders_discount_positive;
-- The column first, its constraint NOT VALID after.
ALTER TABLE orders ADD COLUMN qty int;
ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;
-- A new table has no rows to check.
CREATE TABLE IF NOT EXISTS refunds (id bigint PRIMARY KEY);
ALTER TABLE refunds ADD COLUMN qty int CHECK (qty > 0);
