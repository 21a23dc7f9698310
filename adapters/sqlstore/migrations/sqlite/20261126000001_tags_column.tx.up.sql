-- See the PostgreSQL migration of the same name.
ALTER TABLE tasks ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
