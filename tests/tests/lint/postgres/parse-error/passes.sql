SET LOCAL lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS notes (id bigint PRIMARY KEY, body text);

-- Semicolons and keywords inside strings and dollar quotes are not statements.
CREATE OR REPLACE FUNCTION notes_touch() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    NEW.body := coalesce(NEW.body, 'DROP TABLE notes; -- not a statement');
    RETURN NEW;
END
$body$;

INSERT INTO notes (id, body) VALUES (1, 'it''s; fine -- really');

-- WITH [NO] DATA closes a materialized view; sqlparser does not know it, godwit does.
CREATE MATERIALIZED VIEW IF NOT EXISTS note_counts AS SELECT count(*) AS n FROM notes WITH NO DATA;
CREATE MATERIALIZED VIEW IF NOT EXISTS note_lengths AS SELECT length(body) AS l FROM notes WITH DATA;

-- Django's sqlmigrate output: sqlparser cannot read SET CONSTRAINTS, and no rule needs to.
SET CONSTRAINTS "orders_customer_id_fk_customers_id" IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;

-- A DO block's body is PL/pgSQL, which godwit does not lint.
DO $$
BEGIN
    RAISE NOTICE 'backfilling notes';
END
$$;
DO LANGUAGE plpgsql $do$ BEGIN PERFORM 1; END $do$;

-- Functions, procedures, domains, sequences and comments, in forms sqlparser does not read:
-- no rule examines them.
CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql STABLE LEAKPROOF COST 10
AS $$ SELECT count(*) FROM notes $$;
CREATE OR REPLACE PROCEDURE notes_cleanup() LANGUAGE sql AS $procedure$DELETE FROM notes$procedure$;
DROP ROUTINE IF EXISTS notes_old_helper(integer, text);
CREATE DOMAIN note_title AS text NOT NULL CHECK (VALUE <> '');
ALTER DOMAIN note_title SET DEFAULT 'untitled';
ALTER DOMAIN note_title
    ADD CONSTRAINT note_title_short CHECK (length(VALUE) < 200) NOT VALID;
ALTER SEQUENCE notes_id_seq AS bigint;
COMMENT ON CONSTRAINT notes_pkey ON notes IS 'the key';
COMMENT ON ROUTINE note_count() IS 'how many notes there are';

-- ALTER TABLE forms sqlparser does not read, as `godwit generate` writes them.
ALTER TABLE notes ALTER COLUMN id DROP IDENTITY IF EXISTS;
ALTER TABLE notes ALTER COLUMN id SET GENERATED ALWAYS;
ALTER TABLE notes ALTER COLUMN id SET INCREMENT BY 5 SET MINVALUE 1 RESTART WITH 10;
ALTER TABLE notes ALTER COLUMN body DROP EXPRESSION;
ALTER TABLE notes ALTER COLUMN body TYPE varchar(100) COLLATE "C" USING body::varchar(100);
CREATE TRIGGER notes_touch BEFORE UPDATE ON notes
    FOR EACH ROW EXECUTE FUNCTION notes_touch('body', 'it''s');
