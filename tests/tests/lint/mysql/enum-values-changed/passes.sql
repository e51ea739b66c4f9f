ALTER TABLE orders ADD COLUMN state ENUM('new', 'paid') NULL, ALGORITHM=INSTANT;
-- Values appended at the end keep every stored number, in place.
ALTER TABLE orders MODIFY COLUMN state ENUM('new', 'paid', 'shipped') NULL, ALGORITHM=INSTANT;
ALTER TABLE orders MODIFY COLUMN state ENUM('new', 'paid', 'shipped', 'returned') NULL;
-- A column whose values godwit does not know is not guessed at.
ALTER TABLE invoices MODIFY COLUMN kind ENUM('credit', 'debit') NOT NULL, ALGORITHM=INPLACE;
