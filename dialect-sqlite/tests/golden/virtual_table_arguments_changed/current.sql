CREATE VIRTUAL TABLE shapes USING rtree(id, minX, maxX);
CREATE VIRTUAL TABLE old_docs USING fts4(title);
