-- MySQL accepts it, and every existing row gets 0 and ''.
ALTER TABLE users ADD COLUMN login_count INT NOT NULL, ADD COLUMN `plan` VARCHAR(20) NOT NULL AFTER email;
