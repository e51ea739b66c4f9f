SET LOCAL lock_timeout = '5s';
-- godwit:no-transaction
-- godwit:allow drop-tabel
DROP TABLE IF EXISTS z_archive;
-- godwit:allow drop_table, truncate
DROP TABLE IF EXISTS z_archive_2019;
/* godwit:allow drop-table */
DROP TABLE IF EXISTS z_archive_2020;
-- godwit:allow: drop-table
DROP TABLE IF EXISTS z_archive_2021;
-- godwit:alow drop-table
DROP TABLE IF EXISTS z_archive_2022;
-- godwit:allow
DROP TABLE IF EXISTS z_archive_2023;
DROP TABLE IF EXISTS z_archive_2024; -- godwit:allow drop-table
-- godwit:allow drop-table

DROP TABLE IF EXISTS z_archive_2025;
