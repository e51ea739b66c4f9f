SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
-- Validating in the same transaction keeps the ADD's lock while every row is checked.
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
