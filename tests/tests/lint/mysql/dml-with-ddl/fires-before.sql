-- The DDL after the data change makes the whole migration run outside a transaction too.
DELETE FROM sessions WHERE expires_at < '2024-01-01';
CREATE INDEX sessions_user_idx ON sessions (user_id);
