DROP TRIGGER IF EXISTS tasks_counts_update ON tasks;
--bun:split
DROP TRIGGER IF EXISTS tasks_counts_delete ON tasks;
--bun:split
DROP TRIGGER IF EXISTS tasks_counts_insert ON tasks;
--bun:split
DROP FUNCTION IF EXISTS task_counts_apply();
--bun:split
DROP TABLE IF EXISTS task_counts;
--bun:split
ALTER TABLE tasks DROP COLUMN IF EXISTS tags;
