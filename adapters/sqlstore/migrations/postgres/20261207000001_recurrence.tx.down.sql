DROP TABLE IF EXISTS task_occurrences;
--bun:split
ALTER TABLE tasks
    DROP CONSTRAINT IF EXISTS tasks_recurrence,
    DROP CONSTRAINT IF EXISTS tasks_due_kind,
    DROP COLUMN IF EXISTS recurrence_passed,
    DROP COLUMN IF EXISTS recurrence_from,
    DROP COLUMN IF EXISTS recurrence_rule,
    DROP COLUMN IF EXISTS due_floating,
    DROP COLUMN IF EXISTS due_tz;
