-- What `godwit generate` writes to rename users.mail to email and make it NOT NULL: a
-- rebuild in the file's own transaction, whose CREATEs commit with everything that can fail.
-- godwit:no-transaction
-- Some statements cannot run inside a transaction; the others are grouped in
-- BEGIN/COMMIT below.

PRAGMA foreign_keys = OFF;

BEGIN;

CREATE TEMP TABLE IF NOT EXISTS "godwit_foreign_key_baseline" ("table_name" TEXT NOT NULL, "violations" INTEGER NOT NULL);

INSERT INTO temp."godwit_foreign_key_baseline" SELECT 'users', (SELECT count(*) FROM pragma_foreign_key_check WHERE lower("table") = lower('users') OR lower(parent) = lower('users'));

ALTER TABLE "users" RENAME COLUMN "mail" TO "email";

CREATE TABLE "_godwit_new_users" (
    "id" INTEGER PRIMARY KEY,
    "email" TEXT NOT NULL,
    "nickname" TEXT
);

-- hazard: adds NOT NULL to users.email
INSERT OR ABORT INTO "_godwit_new_users" ("id", "email", "nickname") SELECT "id", "email", "nickname" FROM "users";

-- check: rebuilding table users would not copy every row, so nothing was changed
CREATE TEMP TABLE IF NOT EXISTS "godwit_check_c93d3236" ("rows" INTEGER CONSTRAINT "rebuilding table users would not copy every row, so nothing was changed" CHECK ("rows" = 0));
INSERT INTO temp."godwit_check_c93d3236" SELECT count(*) FROM (SELECT 1 WHERE (SELECT count(*) FROM "users") <> (SELECT count(*) FROM "_godwit_new_users"));

-- lint drop-table allowed: rebuilding table users: every row was copied into "_godwit_new_users" above with every column (the check above compares the row counts), which takes its name below
-- godwit:allow drop-table
DROP TABLE "users";

PRAGMA legacy_alter_table = ON;

ALTER TABLE "_godwit_new_users" RENAME TO "users";

PRAGMA legacy_alter_table = OFF;

CREATE INDEX users_mail ON users(email);

-- check: rebuilding table users would leave more rows breaking a foreign key from or to it than there were before, so nothing was changed; PRAGMA foreign_key_check lists them
CREATE TEMP TABLE IF NOT EXISTS "godwit_check_288b01f4" ("rows" INTEGER CONSTRAINT "rebuilding table users would leave more rows breaking a foreign key from or to it than there were before, so nothing was changed; PRAGMA foreign_key_check lists them" CHECK ("rows" = 0));
INSERT INTO temp."godwit_check_288b01f4" SELECT count(*) FROM (SELECT 1 WHERE (SELECT count(*) FROM pragma_foreign_key_check WHERE lower("table") = lower('users') OR lower(parent) = lower('users')) > (SELECT "violations" FROM temp."godwit_foreign_key_baseline" WHERE "table_name" = 'users' ORDER BY rowid DESC LIMIT 1));

COMMIT;

PRAGMA foreign_keys = ON;
