-- Modules other than FTS5 are compared by their arguments, and created again when they change.
CREATE VIRTUAL TABLE shapes USING rtree(id, minX, maxX, minY, maxY);
CREATE VIRTUAL TABLE old_docs USING fts5(title);
