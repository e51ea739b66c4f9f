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
