-- The rows are indexed again, but their text is no longer kept.
CREATE VIRTUAL TABLE docs USING fts5(title, body, content='');
