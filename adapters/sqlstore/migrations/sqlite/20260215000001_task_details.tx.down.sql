DROP TABLE IF EXISTS task_tags;
--bun:split
DROP INDEX IF EXISTS tasks_user_updated_idx;
--bun:split
DROP INDEX IF EXISTS tasks_user_title_idx;
--bun:split
DROP INDEX IF EXISTS tasks_user_due_idx;
--bun:split
DROP INDEX IF EXISTS tasks_user_priority_idx;
--bun:split
ALTER TABLE tasks DROP COLUMN title_key;
--bun:split
ALTER TABLE tasks DROP COLUMN completed_at;
--bun:split
ALTER TABLE tasks DROP COLUMN due_all_day;
--bun:split
ALTER TABLE tasks DROP COLUMN due_at;
--bun:split
ALTER TABLE tasks DROP COLUMN priority;
