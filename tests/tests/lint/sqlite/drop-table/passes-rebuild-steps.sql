-- The copy may say what to do on a conflict, as `godwit generate` writes it: ABORT, FAIL and
-- ROLLBACK stop the copy rather than leave a row out.
CREATE TABLE "_godwit_new_users" ("id" INTEGER PRIMARY KEY, "email" TEXT NOT NULL);
INSERT OR ABORT INTO "_godwit_new_users" ("id", "email") SELECT "id", "email" FROM "users";
DROP TABLE "users";
ALTER TABLE "_godwit_new_users" RENAME TO "users";
-- A column renamed earlier in the file is copied under its new name.
ALTER TABLE profiles ADD COLUMN bio TEXT;
ALTER TABLE profiles RENAME COLUMN bio TO about;
CREATE TABLE IF NOT EXISTS profiles_new (id INTEGER PRIMARY KEY, about TEXT);
INSERT OR FAIL INTO profiles_new (id, about) SELECT id, about FROM profiles;
DROP TABLE profiles;
ALTER TABLE profiles_new RENAME TO profiles;
