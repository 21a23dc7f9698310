-- PATCH /api/{user_id}/tasks/{id}/complete as one statement: what a toggle
-- needs at the least (one round trip, one commit).
\set n random(0, :nusers - 1)
\set tid random(0, :per - 1) * :nusers + :n + 1
UPDATE tasks SET completed = NOT completed, updated_at = now() /*set*/
WHERE id = :tid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/
RETURNING id, title, description, completed, created_at, updated_at;
