-- Growth scenario: the first 50 tasks (and one more: is there a next page?)
-- of one fixed user (-D user=N), oldest
-- first, in a table of 1,000,000 tasks. LIMIT is a parameter, as the
-- service sends it (a constant can get another plan).
\set limit 51
SELECT id, title, description, completed, created_at, updated_at /*more*/
FROM tasks WHERE user_id = (SELECT id FROM bench_users WHERE n = :user) /*live*/
ORDER BY created_at, id LIMIT :limit;
