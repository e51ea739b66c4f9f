-- Another tokenizer, and a column dropped: the rows are copied into the new index, and the
-- dropped column's text is a hazard.
CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'porter unicode61 remove_diacritics 2');
