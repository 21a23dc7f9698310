DROP TRIGGER IF EXISTS tasks_counts_update;
--bun:split
DROP TRIGGER IF EXISTS tasks_counts_delete;
--bun:split
DROP TRIGGER IF EXISTS tasks_counts_insert;
--bun:split
DROP TABLE IF EXISTS task_counts;
--bun:split
DROP TRIGGER IF EXISTS task_tags_copy_delete;
--bun:split
DROP TRIGGER IF EXISTS task_tags_copy_insert;
