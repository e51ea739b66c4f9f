-- Table options sqlparser does not read: each rewrites every row.
ALTER TABLE events ENGINE = InnoDB;
ALTER TABLE events ROW_FORMAT=COMPRESSED;
ALTER TABLE events CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE events PARTITION BY HASH (id) PARTITIONS 4;
