-- PATCH .../complete the way the repository's Update does it: read the task,
-- then one UPDATE conditional on the version read (no transaction: the
-- version check stands in for a row lock). Two round trips, one commit.
-- Compared with toggle.sql it prices reading before writing (the domain
-- decides what the new state is, not the SQL).
\set n random(0, :nusers - 1)
\set tid random(0, :per - 1) * :nusers + :n + 1
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE id = :tid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/;
UPDATE tasks SET title = title, description = description, completed = NOT completed, updated_at = now() /*set*/
WHERE id = :tid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/;
