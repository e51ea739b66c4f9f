CREATE TABLE products (id INTEGER PRIMARY KEY, code TEXT NOT NULL, price TEXT);
CREATE INDEX products_code ON products (code);
CREATE TABLE orders (id INTEGER PRIMARY KEY, product_id INTEGER REFERENCES products (id) ON DELETE CASCADE);
CREATE VIEW cheap AS SELECT code FROM products WHERE price < 10;
