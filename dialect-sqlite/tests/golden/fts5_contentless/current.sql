CREATE VIRTUAL TABLE terms USING fts5(body, content='');
