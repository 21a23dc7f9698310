-- Issue 18, reminder delivery. A user's webhooks (the secret signs each
-- delivery, Standard Webhooks) and Web Push subscriptions (one per
-- endpoint).
CREATE TABLE webhooks (
    id         text        PRIMARY KEY,
    user_id    text        NOT NULL,
    url        text        NOT NULL,
    secret     text        NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX webhooks_user ON webhooks (user_id);
--bun:split
CREATE TABLE push_subscriptions (
    id         text        PRIMARY KEY,
    user_id    text        NOT NULL,
    endpoint   text        NOT NULL,
    p256dh     text        NOT NULL,
    auth       text        NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT push_subscriptions_endpoint UNIQUE (user_id, endpoint)
);
--bun:split
-- The outbox: one row per reminder falling due and target. The unique key
-- makes a reminder enqueued once whichever instances enqueue it; a row is
-- claimed (lease_until, claim) by one instance with FOR UPDATE SKIP LOCKED,
-- and finished (done_at, outcome) under its claim, or put back for a retry
-- at next_at.
CREATE TABLE reminder_deliveries (
    id          bigserial   PRIMARY KEY,
    user_id     text        NOT NULL,
    task_id     bigint      NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    reminder    text        NOT NULL,
    fires_at    timestamptz NOT NULL,
    target      text        NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL,
    lease_until timestamptz NULL,
    claim       text        NULL,
    done_at     timestamptz NULL,
    outcome     text        NULL,
    CONSTRAINT reminder_deliveries_once UNIQUE (task_id, reminder, fires_at, target)
);
CREATE INDEX reminder_deliveries_due ON reminder_deliveries (next_at) WHERE done_at IS NULL;
