-- The database keeps two copies that make reads cheap, with triggers, so
-- that every writer keeps them right, this version's or the one before it
-- still serving during a rolling update (it knows neither copy):
--
-- * tasks.tags, a copy of the task's task_tags rows (which keep serving the
--   tags filter and the tags endpoint, where an index matters);
-- * task_counts: per user, how many live tasks (not in the trash) they have
--   and how many of those are completed. X-Total-Count of a list filtered
--   by status alone is then one primary-key lookup, not a COUNT over every
--   task of the user: a page costs the same at 100,000 tasks as at 10. A
--   user's concurrent writes queue on their counter row until commit;
--   other users' do not.
--
-- While this migration runs, reads go on; writes of tasks and tags wait for
-- it to commit (the locks below), so that no write falls between a trigger
-- being created and its copy being filled. The copies take about a second
-- per million tasks.
LOCK TABLE tasks, task_tags IN SHARE ROW EXCLUSIVE MODE;
--bun:split
-- The triggers are per statement, over their transition tables: a statement
-- that writes many rows (a bulk create, emptying the completed tasks, a
-- COPY) updates each counter or task once, where a row trigger would update
-- it once per row, each time walking the chain of versions the transaction
-- already left. The functions name their tables with the schema the
-- migration runs in, so that they do not depend on the search_path of
-- whoever writes.
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.task_tags_copy() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                UPDATE %1$I.tasks AS t
                SET tags = coalesce((SELECT json_agg(tt.tag ORDER BY tt.position)::text
                                     FROM %1$I.task_tags AS tt WHERE tt.task_id = t.id), '[]')
                WHERE t.id IN (SELECT task_id FROM new_rows);
            ELSE
                UPDATE %1$I.tasks AS t
                SET tags = coalesce((SELECT json_agg(tt.tag ORDER BY tt.position)::text
                                     FROM %1$I.task_tags AS tt WHERE tt.task_id = t.id), '[]')
                WHERE t.id IN (SELECT task_id FROM old_rows);
            END IF;
            RETURN NULL;
        END
        $body$
    $fn$, current_schema());
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
CREATE TRIGGER task_tags_copy_insert AFTER INSERT ON task_tags REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_tags_copy();
--bun:split
CREATE TRIGGER task_tags_copy_delete AFTER DELETE ON task_tags REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_tags_copy();
--bun:split
UPDATE tasks AS t SET tags = s.tags
FROM (SELECT task_id, json_agg(tag ORDER BY position)::text AS tags FROM task_tags GROUP BY task_id) AS s
WHERE s.task_id = t.id;
--bun:split
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
CREATE TRIGGER tasks_counts_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_counts_apply();
--bun:split
CREATE TRIGGER tasks_counts_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_counts_apply();
--bun:split
CREATE TRIGGER tasks_counts_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION task_counts_apply();
