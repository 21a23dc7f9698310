-- PATCH .../complete the way the repository's Update does it today: a
-- transaction with SELECT ... FOR UPDATE, then UPDATE, then COMMIT (four
-- round trips). Compared with toggle.sql it prices the transaction.
\set n random(0, :nusers - 1)
\set tid random(0, :per - 1) * :nusers + :n + 1
BEGIN;
SELECT id, user_id, title, description, completed, created_at, updated_at
FROM tasks WHERE id = :tid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/ FOR UPDATE;
UPDATE tasks SET title = title, description = description, completed = NOT completed, updated_at = now() /*set*/
WHERE id = :tid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/;
COMMIT;
