-- See the PostgreSQL migration of the same name.
CREATE TABLE webhooks (
    id         TEXT      PRIMARY KEY,
    user_id    TEXT      NOT NULL,
    url        TEXT      NOT NULL,
    secret     TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX webhooks_user ON webhooks (user_id);
--bun:split
CREATE TABLE push_subscriptions (
    id         TEXT      PRIMARY KEY,
    user_id    TEXT      NOT NULL,
    endpoint   TEXT      NOT NULL,
    p256dh     TEXT      NOT NULL,
    auth       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT push_subscriptions_endpoint UNIQUE (user_id, endpoint)
);
--bun:split
CREATE TABLE reminder_deliveries (
    id          INTEGER   PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT      NOT NULL,
    task_id     INTEGER   NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    reminder    TEXT      NOT NULL,
    fires_at    TIMESTAMP NOT NULL,
    target      TEXT      NOT NULL,
    attempts    INTEGER   NOT NULL DEFAULT 0,
    next_at     TIMESTAMP NOT NULL,
    lease_until TIMESTAMP NULL,
    claim       TEXT      NULL,
    done_at     TIMESTAMP NULL,
    outcome     TEXT      NULL,
    CONSTRAINT reminder_deliveries_once UNIQUE (task_id, reminder, fires_at, target)
);
--bun:split
CREATE INDEX reminder_deliveries_due ON reminder_deliveries (next_at) WHERE done_at IS NULL;
