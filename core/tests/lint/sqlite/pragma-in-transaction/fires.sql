PRAGMA foreign_keys = OFF;
PRAGMA journal_mode = WAL;
VACUUM;
