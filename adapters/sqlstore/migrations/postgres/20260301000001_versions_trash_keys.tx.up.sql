-- version counts the writes of a task: 1 when added, one more on every
-- change. A conditional write (If-Match) checks it in the statement that
-- writes: UPDATE ... WHERE id = ? AND user_id = ? AND version = ?.
-- deleted_at, when set, puts the task in the trash: every list, count and
-- read of live tasks filters on deleted_at IS NULL, and the purge removes
-- the task for good once it has been there long enough.
ALTER TABLE tasks
    ADD COLUMN version    bigint      NOT NULL DEFAULT 1 CONSTRAINT tasks_version_positive CHECK (version >= 1),
    ADD COLUMN deleted_at timestamptz NULL;
--bun:split
-- The list indexes become partial (WHERE deleted_at IS NULL), so that a
-- full trash costs the lists nothing: its rows are not in them. Every query
-- of live tasks says deleted_at IS NULL, which lets the planner use them.
DROP INDEX tasks_user_created_idx;
--bun:split
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id) WHERE deleted_at IS NULL;
--bun:split
DROP INDEX tasks_user_completed_created_idx;
--bun:split
CREATE INDEX tasks_user_completed_created_idx ON tasks (user_id, completed, created_at, id) WHERE deleted_at IS NULL;
--bun:split
DROP INDEX tasks_user_updated_idx;
--bun:split
CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at, id) WHERE deleted_at IS NULL;
--bun:split
DROP INDEX tasks_user_title_idx;
--bun:split
CREATE INDEX tasks_user_title_idx ON tasks (user_id, title_key, id) WHERE deleted_at IS NULL;
--bun:split
DROP INDEX tasks_user_due_idx;
--bun:split
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_at, id) WHERE deleted_at IS NULL;
--bun:split
DROP INDEX tasks_user_priority_idx;
--bun:split
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id) WHERE deleted_at IS NULL;
--bun:split
-- The trash of one user, the latest deletion first; and the purge, oldest
-- deletions first across users. Both hold trashed rows only.
CREATE INDEX tasks_user_trash_idx ON tasks (user_id, deleted_at, id) WHERE deleted_at IS NOT NULL;
--bun:split
CREATE INDEX tasks_trash_purge_idx ON tasks (deleted_at) WHERE deleted_at IS NOT NULL;
--bun:split
-- Idempotency keys, per user: the first request with a key inserts the row
-- (status 0 while it runs, held until locked_until), and stores its
-- response when it ends; a repeat within expires_at gets that response.
-- fingerprint is a hash of the request's method, path and body.
CREATE TABLE idempotency_keys (
    user_id      text        NOT NULL,
    idem_key     text        NOT NULL CONSTRAINT idempotency_keys_key_len CHECK (char_length(idem_key) BETWEEN 1 AND 255),
    fingerprint  text        NOT NULL,
    token        text        NOT NULL,
    status       integer     NOT NULL DEFAULT 0,
    headers      text        NULL,
    body         bytea       NULL,
    created_at   timestamptz NOT NULL,
    locked_until timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
--bun:split
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
