-- A table created in the same file holds nothing yet.
CREATE TABLE IF NOT EXISTS scratch (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB;
DROP TABLE scratch;
