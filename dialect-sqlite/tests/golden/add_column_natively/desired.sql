CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    score INTEGER DEFAULT -1,
    initials TEXT AS (substr(name, 1, 1))
);
