UPDATE users SET locale = 'en' WHERE locale IS NULL AND id >= 1 AND id < 10001;
