-- A contentless index cannot give its text back: a new column means an empty index.
CREATE VIRTUAL TABLE terms USING fts5(body, note, content='');
