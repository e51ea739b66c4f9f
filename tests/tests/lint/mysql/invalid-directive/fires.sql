-- godwit:allow table-copies
ALTER TABLE users MODIFY COLUMN email VARCHAR(320) NOT NULL;
