SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
-- A constraint added NOT VALID in an earlier migration is validated here, on its own.
ALTER TABLE orders VALIDATE CONSTRAINT orders_discount_positive;
