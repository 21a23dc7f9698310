-- Issue 18: a task's reminders, at most 10, as a JSON array of strings
-- ("at <RFC 3339>" or "before <ISO 8601 duration>", task.Reminder.String).
-- They are kept with the task; delivery (a table of due reminders claimed
-- with FOR UPDATE SKIP LOCKED) is not built yet.
ALTER TABLE tasks ADD COLUMN reminders text NOT NULL DEFAULT '[]';
