-- MySQL lets the COLUMN keyword go, and drops several columns in one ALTER TABLE.
ALTER TABLE users DROP COLUMN legacy_flag, DROP nickname, ALGORITHM=INSTANT;
