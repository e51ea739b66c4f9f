SET LOCAL lock_timeout = '5s';
DROP TABLE legacy_events;
DROP TABLE IF EXISTS legacy_audit, legacy_sessions CASCADE;
