DROP TABLE IF EXISTS idempotency_keys;
--bun:split
-- Their owners deleted them: without a trash they are gone.
DELETE FROM tasks WHERE deleted_at IS NOT NULL;
--bun:split
DROP INDEX IF EXISTS tasks_trash_purge_idx;
--bun:split
DROP INDEX IF EXISTS tasks_user_trash_idx;
--bun:split
DROP INDEX IF EXISTS tasks_user_created_idx;
--bun:split
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id);
--bun:split
DROP INDEX IF EXISTS tasks_user_completed_created_idx;
--bun:split
CREATE INDEX tasks_user_completed_created_idx ON tasks (user_id, completed, created_at, id);
--bun:split
DROP INDEX IF EXISTS tasks_user_updated_idx;
--bun:split
CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at, id);
--bun:split
DROP INDEX IF EXISTS tasks_user_title_idx;
--bun:split
CREATE INDEX tasks_user_title_idx ON tasks (user_id, title_key, id);
--bun:split
DROP INDEX IF EXISTS tasks_user_due_idx;
--bun:split
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_at, id);
--bun:split
DROP INDEX IF EXISTS tasks_user_priority_idx;
--bun:split
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id);
--bun:split
ALTER TABLE tasks
    DROP COLUMN IF EXISTS deleted_at,
    DROP COLUMN IF EXISTS version;
