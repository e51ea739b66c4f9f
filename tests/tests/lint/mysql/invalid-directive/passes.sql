-- godwit:allow table-copy
ALTER TABLE users MODIFY COLUMN email VARCHAR(320) NOT NULL;
