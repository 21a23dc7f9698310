-- See the PostgreSQL migration of the same name.
ALTER TABLE tasks ADD COLUMN reminders TEXT NOT NULL DEFAULT '[]';
