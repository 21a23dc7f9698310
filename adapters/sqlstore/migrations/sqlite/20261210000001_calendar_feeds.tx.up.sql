-- See the PostgreSQL migration of the same name.
CREATE TABLE calendar_feeds (
    id          TEXT      PRIMARY KEY,
    user_id     TEXT      NOT NULL,
    secret_hash TEXT      NOT NULL UNIQUE,
    name        TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL
) WITHOUT ROWID;
--bun:split
CREATE INDEX calendar_feeds_user_idx ON calendar_feeds (user_id, created_at, id);
