-- A trigger is DDL, and its one-statement body is no statement of the migration: the UPDATE
-- after it is still read.
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW SET NEW.updated_at = NOW();
UPDATE orders SET updated_at = NOW() WHERE updated_at IS NULL;
