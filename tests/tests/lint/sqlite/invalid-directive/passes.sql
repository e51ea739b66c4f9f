-- godwit:no-transaction
-- godwit:allow drop-table
DROP TABLE z_archive;
-- godwit: allow delete-without-where
DELETE FROM z_sessions;
VACUUM;
