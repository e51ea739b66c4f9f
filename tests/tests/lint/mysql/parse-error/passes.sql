CREATE TABLE IF NOT EXISTS notes (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  body MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  kind ENUM('draft', 'published') NOT NULL DEFAULT 'draft',
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY notes_kind_idx (kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO notes (body) VALUES ('first') ON DUPLICATE KEY UPDATE body = VALUES(body);
REPLACE INTO notes (id, body) VALUES (1, 'again');
-- Table options among the operations, and the one-statement body of a trigger.
ALTER TABLE notes ENGINE=InnoDB, ALGORITHM=INPLACE, LOCK=NONE;
ALTER TABLE notes COMMENT = 'user notes', DEFAULT CHARSET = utf8mb4;
CREATE TRIGGER notes_touch BEFORE UPDATE ON notes FOR EACH ROW SET NEW.created_at = OLD.created_at;
-- Routines and triggers between DELIMITER lines run later; they are not linted.
DELIMITER //
CREATE PROCEDURE purge_notes()
BEGIN
  DELETE FROM notes;
END//
DELIMITER ;
