SET LOCAL lock_timeout = '5s';
DROP TABLE legacy_events;
DROP TABLE IF EXISTS legacy_audit, legacy_sessions CASCADE;
-- Not a rebuild: DISTINCT can leave rows behind, and the rename comes before the drop.
CREATE TABLE IF NOT EXISTS visits_new (user_id bigint NOT NULL);
INSERT INTO visits_new SELECT DISTINCT user_id FROM visits;
DROP TABLE visits;
ALTER TABLE visits_new RENAME TO visits;
CREATE TABLE IF NOT EXISTS tokens_new (id bigint PRIMARY KEY);
INSERT INTO tokens_new SELECT id FROM tokens;
ALTER TABLE tokens_new RENAME TO tokens_next;
DROP TABLE tokens;
-- CASCADE drops every table in the schema.
DROP SCHEMA IF EXISTS legacy CASCADE;
