CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nickname TEXT);
CREATE INDEX users_mail ON users (email);
