-- Renames of a table created in the same file break nobody.
CREATE TABLE IF NOT EXISTS drafts (id INT NOT NULL PRIMARY KEY, body TEXT);
RENAME TABLE drafts TO notes;
ALTER TABLE notes CHANGE COLUMN body text_body TEXT NULL;
-- CHANGE that keeps the name renames nothing.
ALTER TABLE users CHANGE COLUMN email email VARCHAR(320) NULL, ALGORITHM=INPLACE, LOCK=NONE;
