/* Migration: switch to WAL and compact.
   This file starts with a UTF-8 byte order mark, and the directive below follows this
   block comment: both are leading matter, so the file runs without a transaction. */
-- godwit:no-transaction
PRAGMA foreign_keys = OFF;
PRAGMA journal_mode = WAL;
VACUUM;
PRAGMA foreign_keys = ON;
