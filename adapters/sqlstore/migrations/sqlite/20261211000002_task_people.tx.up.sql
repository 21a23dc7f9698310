-- See the PostgreSQL migration of the same name.
ALTER TABLE tasks ADD COLUMN created_by TEXT NULL;
--bun:split
ALTER TABLE tasks ADD COLUMN assignee_id TEXT NULL;
--bun:split
CREATE INDEX tasks_user_assignee_idx ON tasks (user_id, assignee_id, id) WHERE assignee_id IS NOT NULL;
