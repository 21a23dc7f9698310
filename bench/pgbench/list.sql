-- The list query of GET /api/{user_id}/tasks for a random seeded user: the
-- user's 20 tasks, oldest first, at most LIST_MAX (1000) + 1, as the
-- repository sends it.
\set n random(0, :nusers - 1)
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/
ORDER BY created_at, id LIMIT 1001;
