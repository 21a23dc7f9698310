-- GET /api/{user_id}/tasks/{id}: one task of a random user, by id and owner.
\set n random(0, :nusers - 1)
\set tid random(0, :per - 1) * :nusers + :n + 1
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE id = :tid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/;
