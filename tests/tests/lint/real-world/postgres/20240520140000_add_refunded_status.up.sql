ALTER TYPE order_status ADD VALUE 'refunded';

UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;

CREATE INDEX CONCURRENTLY orders_refunded_at_idx ON orders (refunded_at);
