SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
-- Validating in the same transaction keeps the ADD's lock while every row is checked.
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
-- A column constraint checks every row too, and cannot be NOT VALID.
ALTER TABLE orders ADD COLUMN qty int CHECK (qty > 0);
ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);
-- A foreign key added to an existing table without NOT VALID checks every row of orders.
ALTER TABLE orders ADD CONSTRAINT orders_shipper_fk FOREIGN KEY (shipper_id) REFERENCES shippers (id);
