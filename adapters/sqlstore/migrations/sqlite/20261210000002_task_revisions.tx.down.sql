DROP TRIGGER tasks_revision;
--bun:split
DROP TABLE task_revisions;
