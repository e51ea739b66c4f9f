CREATE TABLE members (
    team_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    email TEXT NOT NULL UNIQUE,
    nick TEXT,
    seat INTEGER,
    PRIMARY KEY (team_id, user_id),
    UNIQUE (team_id, seat)
);
