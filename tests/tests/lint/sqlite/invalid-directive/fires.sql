-- godwit:allow: drop-table
DROP TABLE z_archive;
-- godwit:allow delete-without-were
DELETE FROM z_sessions;
-- godwit:no-transaction
VACUUM;
