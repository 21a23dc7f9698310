-- event_tickets: single-use tickets for GET /api/{user_id}/events (issue 16),
-- which a browser's EventSource opens without an Authorization header. A
-- ticket is good for one connection on any instance within 60 s; the table
-- keeps its SHA-256, never the ticket, with the identity it stands for and
-- when that identity's token expires (the stream ends then). Taking a
-- ticket is one DELETE ... RETURNING, so two connections never both get it.
CREATE TABLE event_tickets (
    ticket_hash     text        PRIMARY KEY,
    user_id         text        NOT NULL,
    email           text        NOT NULL,
    name            text        NOT NULL,
    session_expires timestamptz NULL,
    expires_at      timestamptz NOT NULL
);
--bun:split
CREATE INDEX event_tickets_expires_idx ON event_tickets (expires_at);
