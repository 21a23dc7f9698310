-- Shared lists (issue 19): who created a task (NULL: its owner, as every
-- task stored before) and who it is assigned to (the owner or a member of
-- its list; NULL: nobody). A member's task stays in the list owner's rows
-- (tasks.user_id), so created_by is the only trace of the member.
ALTER TABLE tasks ADD COLUMN created_by text NULL, ADD COLUMN assignee_id text NULL;
--bun:split
-- GET /tasks?assignee=...: a user's tasks assigned to someone.
CREATE INDEX tasks_user_assignee_idx ON tasks (user_id, assignee_id, id) WHERE assignee_id IS NOT NULL;
