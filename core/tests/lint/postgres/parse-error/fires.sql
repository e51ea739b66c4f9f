SET LOCAL lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS notes (id bigint PRIMARY KEY, body text);

DO $$
BEGIN
    RAISE NOTICE 'backfilling notes';
END
$$;

-- The statements after the unreadable one are still linted.
DELETE FROM sessions;
