-- POST /api/{user_id}/tasks/{id}/move as one statement: what a move needs
-- at the least, one UPDATE ... RETURNING that gives a task of a random user
-- a new key, one commit. The key ('y', the id, 'x', a random number, 'V')
-- is valid, below every implicit key, and no other task's.
\set n random(0, :nusers - 1)
\set tid random(0, :per - 1) * :nusers + :n + 1
\set r random(1, 1000000000)
UPDATE tasks SET position = 'y' || :tid || 'x' || :r || 'V', updated_at = now(), version = version + 1
WHERE id = :tid AND user_id = (SELECT id FROM bench_users WHERE n = :n) /*live*/
RETURNING id, title, description, completed, created_at, updated_at /*more*/;
