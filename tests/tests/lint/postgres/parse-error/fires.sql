SET LOCAL lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS notes (id bigint PRIMARY KEY, body text);

-- A typo, which PostgreSQL rejects too.
ALTER TABLE notes ADD COLUMN title text DEFALUT '';

-- The statements after the unreadable one are still linted.
DELETE FROM sessions;

-- sqlparser cannot read LIKE in a column list, but the table is still known to be new: its
-- index needs no CONCURRENTLY.
CREATE TABLE IF NOT EXISTS docs (LIKE docs_template INCLUDING ALL);
CREATE INDEX IF NOT EXISTS docs_body ON docs (body);

-- Not SET CONSTRAINTS as PostgreSQL writes it: still a parse error.
SET CONSTRAINTS orders_fk LATER;

-- Not a DO block: its code is no string.
DO 42;

-- A function is not linted, but the `;` after it was forgotten, and the DROP TABLE after it
-- would go unchecked.
CREATE FUNCTION notes_count() RETURNS bigint LANGUAGE sql STABLE LEAKPROOF
AS $$ SELECT count(*) FROM notes $$
DROP TABLE sessions;
