CREATE TABLE IF NOT EXISTS notes (id INT NOT NULL PRIMARY KEY, body TEXT);
ALTER TABLE notes FROBNICATE body;
-- The statements after the unreadable one are still linted.
DELETE FROM notes;
