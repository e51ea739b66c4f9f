/* Migration: drop a legacy index.
   This file starts with a UTF-8 byte order mark, and the directive below follows this
   block comment: both are leading matter, so the file runs without a transaction. */
-- godwit:no-transaction
SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;
