-- list_counts: per list, how many live tasks (not in the trash, subtasks
-- included) it has and how many of those are completed, so that the
-- sidebar (GET /lists) reads one row per list and never a list's tasks.
-- task_counts_apply keeps it, beside task_counts, in the same statements.
-- No foreign key: the counters are leaves that only the trigger locks
-- (see the lock order below), and a list deleted for good takes its row
-- with it (sqlstore's list.go).
CREATE TABLE list_counts (
    list_id   bigint PRIMARY KEY,
    live      bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0
);
--bun:split
-- Lock order: a statement takes the counter rows of its users in user
-- order (20261126000003), then those of their lists in list order. A
-- statement that changes a list's counters locks its user's row first even
-- when the user's own totals do not change (a task moved between two
-- lists: a zero upsert), so that whoever holds a list's counter row holds
-- its user's too: two transactions never wait on each other's counter rows
-- in a cycle, whatever order their statements come in.
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION %1$I.task_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO %1$I.task_counts AS c (user_id, live, completed)
                SELECT user_id, count(*), count(*) FILTER (WHERE completed)
                FROM new_rows WHERE deleted_at IS NULL GROUP BY user_id ORDER BY user_id
                ON CONFLICT (user_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
                INSERT INTO %1$I.list_counts AS c (list_id, live, completed)
                SELECT list_id, count(*), count(*) FILTER (WHERE completed)
                FROM new_rows WHERE deleted_at IS NULL AND list_id IS NOT NULL GROUP BY list_id ORDER BY list_id
                ON CONFLICT (list_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO %1$I.task_counts AS c (user_id, live, completed)
                SELECT user_id, -count(*), -count(*) FILTER (WHERE completed)
                FROM old_rows WHERE deleted_at IS NULL GROUP BY user_id ORDER BY user_id
                ON CONFLICT (user_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
                INSERT INTO %1$I.list_counts AS c (list_id, live, completed)
                SELECT list_id, -count(*), -count(*) FILTER (WHERE completed)
                FROM old_rows WHERE deleted_at IS NULL AND list_id IS NOT NULL GROUP BY list_id ORDER BY list_id
                ON CONFLICT (list_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
            ELSE
                INSERT INTO %1$I.task_counts AS c (user_id, live, completed)
                SELECT user_id, sum(live), sum(done) FROM (
                    SELECT user_id, list_id, sum(live) AS live, sum(done) AS done FROM (
                        SELECT user_id, list_id, 1 AS live, completed::int AS done FROM new_rows WHERE deleted_at IS NULL
                        UNION ALL
                        SELECT user_id, list_id, -1, -completed::int FROM old_rows WHERE deleted_at IS NULL
                    ) AS d GROUP BY user_id, list_id HAVING sum(live) <> 0 OR sum(done) <> 0
                ) AS g GROUP BY user_id ORDER BY user_id
                ON CONFLICT (user_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
                INSERT INTO %1$I.list_counts AS c (list_id, live, completed)
                SELECT list_id, sum(live), sum(done) FROM (
                    SELECT list_id, 1 AS live, completed::int AS done FROM new_rows WHERE deleted_at IS NULL AND list_id IS NOT NULL
                    UNION ALL
                    SELECT list_id, -1, -completed::int FROM old_rows WHERE deleted_at IS NULL AND list_id IS NOT NULL
                ) AS d GROUP BY list_id HAVING sum(live) <> 0 OR sum(done) <> 0 ORDER BY list_id
                ON CONFLICT (list_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
            END IF;
            RETURN NULL;
        END
        $body$
    $fn$, current_schema());
END
$do$;
