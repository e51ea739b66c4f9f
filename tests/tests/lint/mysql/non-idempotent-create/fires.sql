-- MySQL commits each CREATE at once: when the ALTER below fails, running the file again
-- fails here because the table exists.
CREATE TABLE tags (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB;
ALTER TABLE posts ADD COLUMN tag_id INT NULL, ALGORITHM=INSTANT;
