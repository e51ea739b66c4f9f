-- PostgreSQL refuses VACUUM in a transaction block, also in the forms sqlparser cannot read.
VACUUM FULL users;
VACUUM (ANALYZE, VERBOSE) orders;
