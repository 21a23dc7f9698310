DROP INDEX IF EXISTS tasks_user_assignee_idx;
--bun:split
ALTER TABLE tasks DROP COLUMN IF EXISTS assignee_id, DROP COLUMN IF EXISTS created_by;
