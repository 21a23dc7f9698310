-- Times are written by Bun as UTC text, '2006-01-02 15:04:05.999999+00:00'.
-- With a fixed offset and no trailing zeros in the fraction, text order is
-- time order ('+' sorts before '.' and every digit), and the TIMESTAMP type
-- makes the driver hand back time.Time.
CREATE TABLE users (
    id         TEXT      NOT NULL PRIMARY KEY,
    email      TEXT      NULL CONSTRAINT users_email_key UNIQUE,
    name       TEXT      NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE tasks (
    id          INTEGER   PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT      NOT NULL,
    title       TEXT      NOT NULL CONSTRAINT tasks_title_len CHECK (length(title) BETWEEN 1 AND 200),
    description TEXT      NULL CONSTRAINT tasks_description_len CHECK (length(description) <= 1000),
    completed   BOOLEAN   NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id);
--bun:split
CREATE INDEX tasks_user_completed_created_idx ON tasks (user_id, completed, created_at, id);
