CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_post_id_idx ON comments (post_id);
-- A rebuild's new table gets its indexes once it has taken the old table's name.
CREATE TABLE "_godwit_new_players" (
    "id" INTEGER PRIMARY KEY,
    "team_id" INTEGER REFERENCES "teams" ("id")
);
INSERT OR ABORT INTO "_godwit_new_players" ("id", "team_id") SELECT "id", "team_id" FROM "players";
-- godwit:allow drop-table
DROP TABLE "players";
ALTER TABLE "_godwit_new_players" RENAME TO "players";
CREATE INDEX players_team_id ON players(team_id);
