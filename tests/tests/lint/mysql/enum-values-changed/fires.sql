-- The file tells the columns' values (the live schema does too, when godwit reads it).
ALTER TABLE orders ADD COLUMN state ENUM('new', 'paid', 'shipped') NULL, ADD COLUMN flags SET('gift', 'rush') NULL, ALGORITHM=INSTANT;
-- 'paid' goes: rows holding it fail the ALTER in strict mode.
ALTER TABLE orders MODIFY COLUMN state ENUM('new', 'shipped') NULL;
-- The same values in another order are renumbered.
ALTER TABLE orders CHANGE COLUMN flags flags SET('rush', 'gift') NULL;
