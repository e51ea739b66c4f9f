-- Two tables with rows in them, for the operations migrations after this one to change.
CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    email TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE
);

INSERT INTO users (id, email, is_admin) VALUES
    (1, 'ada@example.com', TRUE),
    (2, 'grace@example.com', FALSE),
    (3, 'linus@example.com', FALSE),
    (4, 'barbara@example.com', TRUE);

CREATE TABLE orders (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    total NUMERIC(12, 2) NOT NULL
);

CREATE INDEX orders_user_id ON orders (user_id);

-- 5,000 orders: enough for the backfill after this to take five batches.
INSERT INTO orders (id, user_id, total)
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000)
SELECT x, 1 + x % 4, x * 1.25 FROM n;
