-- GET /api/{user_id}/changes?since=<a cursor 5 changes back> for a random
-- seeded user, as the change log (sqlstore's feed.go) reads it: in one
-- REPEATABLE READ, read-only transaction, the user's head, the entries
-- after the cursor (with whether each is live), then their tasks.
\set n random(0, :nusers - 1)
\set limit 101
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT seq, pruned_seq FROM change_heads WHERE user_id = (SELECT id FROM bench_users WHERE n = :n);
SELECT c.seq, c.entity, c.id, c.purged_at IS NOT NULL AS purged, coalesce(t.deleted_at, l.deleted_at) IS NOT NULL AS trashed
FROM change_log AS c
LEFT JOIN tasks AS t ON c.entity = 'task' AND t.id = c.id
LEFT JOIN lists AS l ON c.entity = 'list' AND l.id = c.id
WHERE c.user_id = (SELECT id FROM bench_users WHERE n = :n)
  AND c.seq > (SELECT seq - 5 FROM change_heads WHERE user_id = (SELECT id FROM bench_users WHERE n = :n))
ORDER BY c.seq LIMIT :limit;
SELECT id, title, description, completed, created_at, updated_at /*more*/, deleted_at, trashed_with
FROM tasks WHERE user_id = (SELECT id FROM bench_users WHERE n = :n)
  AND id IN (SELECT id FROM change_log WHERE user_id = (SELECT id FROM bench_users WHERE n = :n) AND entity = 'task'
             AND seq > (SELECT seq - 5 FROM change_heads WHERE user_id = (SELECT id FROM bench_users WHERE n = :n)));
COMMIT;
