-- The list query of GET /api/{user_id}/tasks for a random seeded user: the
-- user's 20 tasks, oldest first, at most LIST_MAX (1000) + 1, as the
-- repository sends it: LIMIT too is a parameter (a constant 1001 got
-- another generic plan, a bitmap scan and a sort, ~20% dearer than the
-- service's ordered scan of tasks_user_created_idx; docs/PERFORMANCE.md).
\set n random(0, :nusers - 1)
\set limit 1001
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/
ORDER BY created_at, id LIMIT :limit;
