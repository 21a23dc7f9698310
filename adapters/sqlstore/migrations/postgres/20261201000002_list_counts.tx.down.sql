-- Back to the counters of users alone (20261126000003's function).
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
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO %1$I.task_counts AS c (user_id, live, completed)
                SELECT user_id, -count(*), -count(*) FILTER (WHERE completed)
                FROM old_rows WHERE deleted_at IS NULL GROUP BY user_id ORDER BY user_id
                ON CONFLICT (user_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
            ELSE
                INSERT INTO %1$I.task_counts AS c (user_id, live, completed)
                SELECT user_id, sum(live), sum(done) FROM (
                    SELECT user_id, 1 AS live, completed::int AS done FROM new_rows WHERE deleted_at IS NULL
                    UNION ALL
                    SELECT user_id, -1, -completed::int FROM old_rows WHERE deleted_at IS NULL
                ) AS d GROUP BY user_id HAVING sum(live) <> 0 OR sum(done) <> 0 ORDER BY user_id
                ON CONFLICT (user_id) DO UPDATE SET live = c.live + EXCLUDED.live, completed = c.completed + EXCLUDED.completed;
            END IF;
            RETURN NULL;
        END
        $body$
    $fn$, current_schema());
END
$do$;
--bun:split
DROP TABLE list_counts;
