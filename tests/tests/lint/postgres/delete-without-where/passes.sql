DELETE FROM sessions WHERE expires_at < now();
DELETE FROM carts USING users WHERE carts.user_id = users.id AND users.deleted_at IS NOT NULL;
