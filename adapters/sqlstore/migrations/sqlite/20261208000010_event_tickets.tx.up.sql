-- See the PostgreSQL migration of the same name.
CREATE TABLE event_tickets (
    ticket_hash     TEXT      PRIMARY KEY,
    user_id         TEXT      NOT NULL,
    email           TEXT      NOT NULL,
    name            TEXT      NOT NULL,
    session_expires TIMESTAMP NULL,
    expires_at      TIMESTAMP NOT NULL
) WITHOUT ROWID;
--bun:split
CREATE INDEX event_tickets_expires_idx ON event_tickets (expires_at);
