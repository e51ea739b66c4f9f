PRAGMA foreign_keys = OFF;
PRAGMA journal_mode = WAL;
VACUUM;
PRAGMA main.journal_mode = 'wal';
