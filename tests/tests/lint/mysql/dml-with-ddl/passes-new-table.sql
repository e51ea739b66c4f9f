-- Filling a table created in the same file: nobody uses it yet.
CREATE TABLE IF NOT EXISTS countries (code CHAR(2) NOT NULL PRIMARY KEY, name VARCHAR(80) NOT NULL);
INSERT INTO countries VALUES ('GB', 'United Kingdom'), ('FR', 'France');
