CREATE TABLE IF NOT EXISTS import_batch (id INTEGER PRIMARY KEY, payload TEXT);
INSERT INTO import_batch (id, payload) SELECT id, payload FROM raw_import WHERE imported_at IS NULL;
DROP TABLE import_batch;
DROP VIEW IF EXISTS active_users;
-- A table rebuild by the book, as `godwit generate` writes it: every row is copied into the new
-- table, which takes the old one's name.
CREATE TABLE "_godwit_new_users" ("id" INTEGER PRIMARY KEY, "email" TEXT NOT NULL);
INSERT INTO "_godwit_new_users" ("id", "email") SELECT "id", "email" FROM "users";
DROP TABLE "users";
ALTER TABLE "_godwit_new_users" RENAME TO "users";
-- The same written by hand, with other spellings of the names.
CREATE TABLE IF NOT EXISTS teams_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO teams_new SELECT id, name FROM main.Teams;
DROP TABLE IF EXISTS teams;
ALTER TABLE teams_new RENAME TO TEAMS;
