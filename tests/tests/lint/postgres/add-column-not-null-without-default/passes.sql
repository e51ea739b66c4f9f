SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'pending';
ALTER TABLE orders ADD COLUMN note text;
CREATE TABLE IF NOT EXISTS refunds (id bigint PRIMARY KEY);
ALTER TABLE refunds ADD COLUMN amount numeric(12, 2) NOT NULL;
