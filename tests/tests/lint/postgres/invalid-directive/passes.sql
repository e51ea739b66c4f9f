-- Directives as godwit reads them, and text that only mentions godwit: is not a directive.
-- godwit:no-transaction
SET lock_timeout = '5s';
-- the archive was exported (ticket OPS-12)
-- godwit:allow drop-table, missing-lock-timeout
DROP TABLE IF EXISTS z_archive;
INSERT INTO notes (body) VALUES ('-- godwit:allow drop-tabel');
-- see the godwit: docs for the rules
