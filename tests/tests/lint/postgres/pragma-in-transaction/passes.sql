-- godwit:no-transaction
VACUUM FULL users;
ANALYZE orders;
