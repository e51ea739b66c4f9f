DROP TABLE legacy_events;
-- Not a rebuild: the copy leaves rows behind, the new table never takes the old name, or the
-- copy comes after the drop.
CREATE TABLE IF NOT EXISTS orders_new (id INTEGER PRIMARY KEY, total INTEGER NOT NULL);
INSERT INTO orders_new SELECT id, total FROM orders WHERE total IS NOT NULL;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE TABLE IF NOT EXISTS carts_new (id INTEGER PRIMARY KEY);
INSERT INTO carts_new SELECT id FROM carts;
DROP TABLE carts;
ALTER TABLE carts_new RENAME TO carts_archive;
CREATE TABLE IF NOT EXISTS tags_new (id INTEGER PRIMARY KEY);
INSERT OR IGNORE INTO tags_new SELECT id FROM tags;
DROP TABLE tags;
ALTER TABLE tags_new RENAME TO tags;
-- A "rebuild" whose copy leaves out a column the file knows about loses that column's data.
ALTER TABLE profiles ADD COLUMN bio TEXT;
CREATE TABLE IF NOT EXISTS profiles_new (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO profiles_new (id, name) SELECT id, name FROM profiles;
DROP TABLE profiles;
ALTER TABLE profiles_new RENAME TO profiles;
-- OR REPLACE keeps one row of those that share a key.
CREATE TABLE IF NOT EXISTS badges_new (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
INSERT OR REPLACE INTO badges_new SELECT id, name FROM badges;
DROP TABLE badges;
ALTER TABLE badges_new RENAME TO badges;
-- A copy into a column of another type converts its values.
ALTER TABLE prices ADD COLUMN amount TEXT;
CREATE TABLE IF NOT EXISTS prices_new (id INTEGER PRIMARY KEY, amount NUMERIC(10, 2));
INSERT OR ABORT INTO prices_new (id, amount) SELECT id, amount FROM prices;
DROP TABLE prices;
ALTER TABLE prices_new RENAME TO prices;
-- What a copy into a virtual table keeps is up to its module: a contentless FTS5 table keeps
-- no text.
CREATE VIRTUAL TABLE IF NOT EXISTS docs_new USING fts5(title, body, content='');
INSERT INTO docs_new (rowid, title, body) SELECT rowid, title, body FROM docs;
DROP TABLE docs;
ALTER TABLE docs_new RENAME TO docs;
