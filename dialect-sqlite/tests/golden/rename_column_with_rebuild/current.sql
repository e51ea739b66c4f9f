CREATE TABLE users (id INTEGER PRIMARY KEY, mail TEXT, nickname TEXT);
CREATE INDEX users_mail ON users (mail);
