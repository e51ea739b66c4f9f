-- Inside a transaction SQLite switches between the rollback journal modes without complaint;
-- reading a pragma changes nothing.
PRAGMA journal_mode = TRUNCATE;
PRAGMA journal_mode = DELETE;
PRAGMA journal_mode;
PRAGMA foreign_keys;
