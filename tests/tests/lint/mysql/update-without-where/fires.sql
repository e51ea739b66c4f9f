UPDATE users SET locale = 'en';
