-- See the PostgreSQL migration of the same name for what each part means.
ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CONSTRAINT tasks_version_positive CHECK (version >= 1);
--bun:split
ALTER TABLE tasks ADD COLUMN deleted_at TIMESTAMP NULL;
--bun:split
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
CREATE INDEX tasks_user_trash_idx ON tasks (user_id, deleted_at, id) WHERE deleted_at IS NOT NULL;
--bun:split
CREATE INDEX tasks_trash_purge_idx ON tasks (deleted_at) WHERE deleted_at IS NOT NULL;
--bun:split
CREATE TABLE idempotency_keys (
    user_id      TEXT      NOT NULL,
    idem_key     TEXT      NOT NULL CONSTRAINT idempotency_keys_key_len CHECK (length(idem_key) BETWEEN 1 AND 255),
    fingerprint  TEXT      NOT NULL,
    token        TEXT      NOT NULL,
    status       INTEGER   NOT NULL DEFAULT 0,
    headers      TEXT      NULL,
    body         BLOB      NULL,
    created_at   TIMESTAMP NOT NULL,
    locked_until TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
) WITHOUT ROWID;
--bun:split
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
