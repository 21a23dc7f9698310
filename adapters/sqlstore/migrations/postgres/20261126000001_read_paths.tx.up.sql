-- Reading a task, or a page of them, is one query on one table (issue 8).
--
-- tags is the task's tags in its order, as a JSON array of strings: a copy of
-- its task_tags rows, written in the same transaction. task_tags keeps
-- serving the tags filter and the tags endpoint, where an index matters; the
-- column saves the second query that loading a page's tags used to cost.
ALTER TABLE tasks ADD COLUMN tags text NOT NULL DEFAULT '[]';
--bun:split
UPDATE tasks AS t SET tags = s.tags
FROM (SELECT task_id, json_agg(tag ORDER BY position)::text AS tags FROM task_tags GROUP BY task_id) AS s
WHERE s.task_id = t.id;
--bun:split
-- task_counts holds, per user, how many live tasks (not in the trash) they
-- have and how many of those are completed, kept by triggers on tasks in the
-- writing transaction. X-Total-Count of a list filtered by status alone is
-- then one primary-key lookup, not a COUNT over every task of the user: a
-- page costs the same at 100,000 tasks as at 10. A user's concurrent writes
-- queue on their counter row until commit; other users' do not.
CREATE TABLE task_counts (
    user_id   text   PRIMARY KEY,
    live      bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0
);
--bun:split
INSERT INTO task_counts (user_id, live, completed)
SELECT user_id, count(*), count(*) FILTER (WHERE completed)
FROM tasks WHERE deleted_at IS NULL GROUP BY user_id;
--bun:split
-- The triggers are per statement, over its transition tables: a statement
-- that writes many tasks (a bulk create, emptying the completed tasks, a
-- COPY) updates each user's row once, where a row trigger would update it
-- once per task, each time walking the chain of versions the transaction
-- already left. The function names the counter table with the schema the
-- migration runs in, so that it does not depend on the search_path of
-- whoever writes.
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.task_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO %1$I.task_counts AS c (user_id, live, completed)
                SELECT user_id, count(*), count(*) FILTER (WHERE completed)
                FROM new_rows WHERE deleted_at IS NULL GROUP BY user_id
                ON CONFLICT (user_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO %1$I.task_counts AS c (user_id, live, completed)
                SELECT user_id, -count(*), -count(*) FILTER (WHERE completed)
                FROM old_rows WHERE deleted_at IS NULL GROUP BY user_id
                ON CONFLICT (user_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
            ELSE
                INSERT INTO %1$I.task_counts AS c (user_id, live, completed)
                SELECT user_id, sum(live), sum(done) FROM (
                    SELECT user_id, 1 AS live, completed::int AS done FROM new_rows WHERE deleted_at IS NULL
                    UNION ALL
                    SELECT user_id, -1, -completed::int FROM old_rows WHERE deleted_at IS NULL
                ) AS d GROUP BY user_id HAVING sum(live) <> 0 OR sum(done) <> 0
                ON CONFLICT (user_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
            END IF;
            RETURN NULL;
        END
        $body$
    $fn$, current_schema());
END
$do$;
--bun:split
CREATE TRIGGER tasks_counts_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_counts_apply();
--bun:split
CREATE TRIGGER tasks_counts_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_counts_apply();
--bun:split
CREATE TRIGGER tasks_counts_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_counts_apply();
