-- POST /api/{user_id}/tasks: one INSERT ... RETURNING, committed (synchronous
-- commit as the server is configured, the same as for the API).
\set n random(0, :nusers - 1)
INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at /*cols*/)
VALUES ((SELECT id FROM bench_users WHERE n = :n), 'bench task', NULL, false, now(), now() /*vals*/)
RETURNING id;
