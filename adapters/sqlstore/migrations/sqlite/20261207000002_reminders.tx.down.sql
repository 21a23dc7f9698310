ALTER TABLE tasks DROP COLUMN reminders;
