SET LOCAL lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS comments (
    id bigint PRIMARY KEY,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    author_id bigint NOT NULL,
    body text NOT NULL,
    FOREIGN KEY (author_id) REFERENCES users (id),
    UNIQUE (author_id, id)
);
-- An index created later in the file covers the key too.
CREATE INDEX IF NOT EXISTS comments_post_id_idx ON comments (post_id);
