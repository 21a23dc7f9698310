-- calendar_feeds: read-only ICS subscription URLs (issue 20),
-- /calendar/<secret>.ics, polled by calendar apps without a token. The
-- table keeps the SHA-256 of the secret, never the secret; deleting the
-- row revokes the URL.
CREATE TABLE calendar_feeds (
    id          text        PRIMARY KEY,
    user_id     text        NOT NULL,
    secret_hash text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL
);
--bun:split
CREATE INDEX calendar_feeds_user_idx ON calendar_feeds (user_id, created_at, id);
