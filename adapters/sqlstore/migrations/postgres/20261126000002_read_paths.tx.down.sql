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
DROP TRIGGER IF EXISTS task_tags_copy_delete ON task_tags;
--bun:split
DROP TRIGGER IF EXISTS task_tags_copy_insert ON task_tags;
--bun:split
DROP FUNCTION IF EXISTS task_tags_copy();
