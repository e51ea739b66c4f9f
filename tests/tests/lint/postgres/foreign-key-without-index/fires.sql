SET LOCAL lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS comments (
    id bigint PRIMARY KEY,
    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    body text NOT NULL
);

-- The index leads with created_at, not author_id, so it does not help the foreign key.
CREATE INDEX IF NOT EXISTS comments_created_author_idx ON comments (created_at, author_id);
ALTER TABLE comments ADD CONSTRAINT comments_author_fk
    FOREIGN KEY (author_id) REFERENCES users (id) NOT VALID;
