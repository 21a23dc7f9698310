DROP TABLE IF EXISTS task_occurrences;
--bun:split
ALTER TABLE tasks DROP COLUMN recurrence_passed;
--bun:split
ALTER TABLE tasks DROP COLUMN recurrence_from;
--bun:split
ALTER TABLE tasks DROP COLUMN recurrence_rule;
--bun:split
ALTER TABLE tasks DROP COLUMN due_floating;
--bun:split
ALTER TABLE tasks DROP COLUMN due_tz;
