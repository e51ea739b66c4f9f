-- godwit:no-transaction
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
