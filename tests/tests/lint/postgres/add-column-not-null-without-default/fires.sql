SET LOCAL lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN status text NOT NULL;
ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT NULL;
-- Two columns in one statement: one finding that names both.
ALTER TABLE orders ADD COLUMN placed_by bigint NOT NULL, ADD COLUMN placed_at timestamptz NOT NULL;
