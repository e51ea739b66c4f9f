SET LOCAL lock_timeout = '5s';
-- now() and CURRENT_TIMESTAMP are stable: PostgreSQL 11+ stores one value, no rewrite.
ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE users ADD COLUMN updated_at timestamptz DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE users ADD COLUMN api_key uuid;
-- Only rows inserted from now on get the volatile default.
ALTER TABLE users ALTER COLUMN api_key SET DEFAULT gen_random_uuid();
-- A new table has no rows to fill.
CREATE TABLE IF NOT EXISTS refunds (id bigint PRIMARY KEY, amount bigint);
ALTER TABLE refunds ADD COLUMN amount_cents bigint GENERATED ALWAYS AS (amount * 100) STORED;
