-- Online clauses make the server refuse a copy instead of blocking writes.
ALTER TABLE users MODIFY COLUMN email VARCHAR(320) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
ALTER TABLE users ADD COLUMN nickname VARCHAR(40) NULL, ALGORITHM=INSTANT;
ALTER TABLE users ADD INDEX users_nickname_idx (nickname), LOCK=NONE;
ALTER TABLE events DROP PRIMARY KEY, ADD PRIMARY KEY (id, created_at);
-- A table created in the same file holds nothing to copy.
CREATE TABLE IF NOT EXISTS drafts (id INT NOT NULL PRIMARY KEY, body TEXT);
ALTER TABLE drafts MODIFY COLUMN body MEDIUMTEXT NOT NULL;
