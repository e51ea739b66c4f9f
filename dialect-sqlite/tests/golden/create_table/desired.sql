CREATE TABLE authors (
    id integer PRIMARY KEY AUTOINCREMENT,
    email varchar( 200 ) NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL DEFAULT 'anonymous',
    joined TEXT DEFAULT CURRENT_TIMESTAMP,
    karma INTEGER DEFAULT (1 + 1),
    UNIQUE (email),
    CONSTRAINT karma_positive CHECK (karma >= 0)
);
CREATE TABLE books (
    author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    isbn TEXT NOT NULL,
    price REAL,
    quantity INTEGER,
    total REAL GENERATED ALWAYS AS (price * quantity) STORED,
    label TEXT AS (upper(isbn)),
    untyped,
    PRIMARY KEY (author_id, isbn)
) WITHOUT ROWID;
CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL) STRICT;
CREATE INDEX books_by_price ON books (price DESC) WHERE price IS NOT NULL;
CREATE VIEW expensive AS SELECT isbn, price FROM books WHERE price > 100;
CREATE TRIGGER books_log AFTER INSERT ON books BEGIN INSERT INTO events (payload) VALUES (new.isbn); END;
