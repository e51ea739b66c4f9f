RENAME TABLE users TO accounts, sessions TO logins;
ALTER TABLE accounts RENAME COLUMN mail TO email, ALGORITHM=INSTANT;
ALTER TABLE accounts CHANGE COLUMN nick nickname VARCHAR(40) NULL;
ALTER TABLE logins RENAME TO user_sessions;
