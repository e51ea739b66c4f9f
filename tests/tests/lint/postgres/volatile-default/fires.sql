SET LOCAL lock_timeout = '5s';
ALTER TABLE users ADD COLUMN api_key uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();
ALTER TABLE users ADD COLUMN public_id uuid NOT NULL DEFAULT uuidv7();
ALTER TABLE users ADD COLUMN position bigserial;
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) STORED;
