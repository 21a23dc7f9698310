DROP INDEX IF EXISTS tasks_user_assignee_idx;
--bun:split
ALTER TABLE tasks DROP COLUMN assignee_id;
--bun:split
ALTER TABLE tasks DROP COLUMN created_by;
