DROP TRIGGER tasks_revision ON tasks;
--bun:split
DROP FUNCTION tasks_revision();
--bun:split
DROP TABLE task_revisions;
