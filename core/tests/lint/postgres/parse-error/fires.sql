SET LOCAL lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS notes (id bigint PRIMARY KEY, body text);

DO $$
BEGIN
    RAISE NOTICE 'backfilling notes';
END
$$;

-- The statements after the unreadable one are still linted.
DELETE FROM sessions;

-- sqlparser cannot read LIKE in a column list, but the table is still known to be new: its
-- index needs no CONCURRENTLY.
CREATE TABLE IF NOT EXISTS docs (LIKE docs_template INCLUDING ALL);
CREATE INDEX IF NOT EXISTS docs_body ON docs (body);

-- Not SET CONSTRAINTS as PostgreSQL writes it: still a parse error.
SET CONSTRAINTS orders_fk LATER;
