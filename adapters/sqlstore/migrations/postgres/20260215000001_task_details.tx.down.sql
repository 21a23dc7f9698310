-- pg_trgm stays: other schemas of the database may use it.
DROP TABLE IF EXISTS task_tags;
--bun:split
DROP INDEX IF EXISTS tasks_title_key_trgm_idx;
--bun:split
DROP INDEX IF EXISTS tasks_description_trgm_idx;
--bun:split
DROP INDEX IF EXISTS tasks_user_updated_idx;
--bun:split
DROP INDEX IF EXISTS tasks_user_title_idx;
--bun:split
DROP INDEX IF EXISTS tasks_user_due_idx;
--bun:split
DROP INDEX IF EXISTS tasks_user_priority_idx;
--bun:split
ALTER TABLE tasks
    DROP CONSTRAINT IF EXISTS tasks_due_all_day,
    DROP COLUMN IF EXISTS title_key,
    DROP COLUMN IF EXISTS completed_at,
    DROP COLUMN IF EXISTS due_all_day,
    DROP COLUMN IF EXISTS due_at,
    DROP COLUMN IF EXISTS priority;
