-- The file tells the columns' types: the first MODIFY changes one, the second only makes it
-- NOT NULL, in place.
ALTER TABLE prices ADD COLUMN amount DECIMAL(10,2) NULL, ADD COLUMN note VARCHAR(40) NULL, ALGORITHM=INSTANT;
ALTER TABLE prices CHANGE COLUMN amount amount_cents INT NOT NULL;
ALTER TABLE prices MODIFY note VARCHAR(40) NOT NULL;
