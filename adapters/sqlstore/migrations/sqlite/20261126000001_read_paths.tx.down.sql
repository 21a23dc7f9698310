DROP TRIGGER IF EXISTS tasks_counts_update;
--bun:split
DROP TRIGGER IF EXISTS tasks_counts_delete;
--bun:split
DROP TRIGGER IF EXISTS tasks_counts_insert;
--bun:split
DROP TABLE IF EXISTS task_counts;
--bun:split
ALTER TABLE tasks DROP COLUMN tags;
