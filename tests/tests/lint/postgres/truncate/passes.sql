SET LOCAL lock_timeout = '5s';
DELETE FROM sessions WHERE expires_at < now() - interval '30 days';
