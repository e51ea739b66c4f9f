CREATE TABLE orders (id INTEGER PRIMARY KEY, qty INTEGER, code TEXT, UNIQUE (code, qty));
