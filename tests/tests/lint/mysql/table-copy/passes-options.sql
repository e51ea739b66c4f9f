-- A comment and the default character set of columns added later change only the data
-- dictionary; a rebuild asked for in place lets writes go on.
ALTER TABLE events COMMENT = 'audit trail', DEFAULT CHARSET = utf8mb4;
ALTER TABLE events ENGINE=InnoDB, ALGORITHM=INPLACE, LOCK=NONE;
