CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, nickname TEXT);
CREATE INDEX users_nickname ON users (nickname);
