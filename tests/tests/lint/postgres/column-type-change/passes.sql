SET LOCAL lock_timeout = '5s';
CREATE TABLE IF NOT EXISTS invoices (id bigint PRIMARY KEY, total integer NOT NULL);
ALTER TABLE invoices ALTER COLUMN total TYPE numeric(12, 2);
