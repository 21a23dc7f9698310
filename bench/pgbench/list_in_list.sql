-- GET /api/{user_id}/tasks?list_id=<its list>&parent_id=none&sort=position
-- for a random seeded user (seed -lists: user n's list is n + 1): the
-- list's 20 top-level tasks in the order the user dragged, at most
-- LIST_MAX (1000) + 1, as the repository sends it (ordered by the scope
-- index's own columns: one range of tasks_scope_key, no sort).
\set n random(0, :nusers - 1)
\set limit 1001
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/
AND list_id = :n + 1 AND parent_id IS NULL
ORDER BY list_id, parent_id, sort_key LIMIT :limit;
