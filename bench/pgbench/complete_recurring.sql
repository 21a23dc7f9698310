-- PATCH .../complete on a repeating task (issue 18), the statements the
-- service runs: the plain path's read (which sees the task repeats), then
-- one transaction: read the task, take the owner's scope lock, read it
-- again and move its due on one occurrence (the next day here), record the
-- occurrence in task_occurrences, and read its subtasks (to reopen them).
-- bench_recurring (bench.sh) maps user n to their repeating task.
\set n random(0, :nusers - 1)
SELECT id AS rid FROM bench_recurring WHERE n = :n \gset
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE id = :rid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/;
BEGIN;
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE id = :rid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/;
SELECT pg_advisory_xact_lock(hashtextextended('todo-backend scope ' || (SELECT id FROM bench_users WHERE n = :n), 0));
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE id = :rid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/ FOR UPDATE;
UPDATE tasks SET due_at = due_at + interval '1 day', updated_at = now(), version = version + 1
WHERE id = :rid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/;
INSERT INTO task_occurrences (task_id, user_id, occurrence, due_at, kind, at)
SELECT id, user_id, (due_at - interval '1 day')::text, due_at - interval '1 day', 'completed', now()
FROM tasks WHERE id = :rid ON CONFLICT (task_id, occurrence) DO NOTHING;
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE user_id = (SELECT id FROM bench_users WHERE n = :n) AND parent_id = :rid /*live*/ ORDER BY created_at, id;
END;
