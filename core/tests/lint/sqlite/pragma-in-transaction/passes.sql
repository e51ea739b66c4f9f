-- godwit:no-transaction
PRAGMA foreign_keys = OFF;
PRAGMA journal_mode = WAL;
VACUUM;
PRAGMA foreign_keys = ON;
