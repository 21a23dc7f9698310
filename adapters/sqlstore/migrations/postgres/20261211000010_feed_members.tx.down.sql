DROP TRIGGER list_members_changes_update ON list_members;
--bun:split
DROP TRIGGER list_members_changes_delete ON list_members;
--bun:split
DROP TRIGGER list_members_changes_insert ON list_members;
--bun:split
DROP FUNCTION list_members_changes();
--bun:split
-- Back to one entry per entity: its owner's (any one for a tombstone).
DELETE FROM change_log AS c WHERE EXISTS (SELECT FROM tasks AS t WHERE c.entity = 'task' AND t.id = c.id AND t.user_id <> c.user_id)
   OR EXISTS (SELECT FROM lists AS l WHERE c.entity = 'list' AND l.id = c.id AND l.user_id <> c.user_id);
--bun:split
DELETE FROM change_log AS c USING change_log AS d
WHERE d.entity = c.entity AND d.id = c.id AND d.user_id < c.user_id;
--bun:split
ALTER TABLE change_log DROP CONSTRAINT change_log_pkey, ADD PRIMARY KEY (entity, id);
--bun:split
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION %1$I.change_log_apply(u text[], e text[], i bigint[], p timestamptz[]) RETURNS void LANGUAGE plpgsql AS $body$
        DECLARE
            n bigint;
            s bigint;
        BEGIN
            IF u IS NULL OR cardinality(u) = 0 THEN
                RETURN;
            END IF;
            IF current_setting('todo.change_feed_test', true) = 'unordered' THEN
                WITH w AS (
                    INSERT INTO %1$I.change_log AS c (entity, id, user_id, seq, purged_at)
                    SELECT x.e, x.i, x.u, nextval('%1$I.change_unordered'), x.p FROM unnest(u, e, i, p) AS x(u, e, i, p)
                    ON CONFLICT (entity, id) DO UPDATE SET seq = EXCLUDED.seq, purged_at = EXCLUDED.purged_at
                    RETURNING c.user_id, c.seq
                )
                SELECT count(*) INTO n FROM w;
                PERFORM pg_sleep(random() * 0.005);
                INSERT INTO %1$I.change_heads AS h (user_id, seq)
                SELECT x.u, max(c.seq) FROM unnest(u, e, i) AS x(u, e, i) JOIN %1$I.change_log AS c ON c.entity = x.e AND c.id = x.i
                GROUP BY x.u ORDER BY x.u
                ON CONFLICT (user_id) DO UPDATE SET seq = greatest(h.seq, EXCLUDED.seq);
                RETURN;
            END IF;
            IF u[1] = ALL(u) THEN
                -- One user, as nearly every statement: the same in fewer
                -- steps (a third of the general path's cost per toggle).
                n := cardinality(u);
                INSERT INTO %1$I.change_heads AS h (user_id, seq) VALUES (u[1], n)
                ON CONFLICT (user_id) DO UPDATE SET seq = h.seq + EXCLUDED.seq
                RETURNING h.seq INTO s;
                INSERT INTO %1$I.change_log AS c (entity, id, user_id, seq, purged_at)
                SELECT x.e, x.i, u[1], s - n + x.k, x.p FROM unnest(e, i, p) WITH ORDINALITY AS x(e, i, p, k)
                ON CONFLICT (entity, id) DO UPDATE SET seq = EXCLUDED.seq, purged_at = EXCLUDED.purged_at;
                IF EXISTS (SELECT FROM %1$I.change_watchers AS w WHERE w.user_id = u[1] AND w.expires_at > now()) THEN
                    PERFORM pg_notify('todo_changes', s::text || ' ' || u[1]);
                END IF;
                RETURN;
            END IF;
            WITH ch AS (
                SELECT x.u, x.e, x.i, x.p, row_number() OVER (PARTITION BY x.u ORDER BY x.e, x.i) AS k,
                       count(*) OVER (PARTITION BY x.u) AS m
                FROM unnest(u, e, i, p) AS x(u, e, i, p)
            ), h AS (
                INSERT INTO %1$I.change_heads AS h (user_id, seq)
                SELECT ch.u, max(ch.m) FROM ch GROUP BY ch.u ORDER BY ch.u
                ON CONFLICT (user_id) DO UPDATE SET seq = h.seq + EXCLUDED.seq
                RETURNING h.user_id, h.seq
            ), w AS (
                INSERT INTO %1$I.change_log AS c (entity, id, user_id, seq, purged_at)
                SELECT ch.e, ch.i, ch.u, h.seq - ch.m + ch.k, ch.p FROM ch JOIN h ON h.user_id = ch.u
                ON CONFLICT (entity, id) DO UPDATE SET seq = EXCLUDED.seq, purged_at = EXCLUDED.purged_at
            )
            SELECT count(pg_notify('todo_changes', h.seq::text || ' ' || h.user_id)) INTO n FROM h
            WHERE EXISTS (SELECT FROM %1$I.change_watchers AS w WHERE w.user_id = h.user_id AND w.expires_at > now());
        END
        $body$
    $fn$, current_schema());
END
$do$;
--bun:split
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION %1$I.tasks_changes() RETURNS trigger LANGUAGE plpgsql AS $body$
        DECLARE
            u text[]; e text[]; i bigint[]; p timestamptz[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT n.user_id AS u, 'task' AS e, n.id AS i, NULL::timestamptz AS p FROM new_rows AS n
                    UNION ALL
                    SELECT l.user_id, 'list', l.id, NULL FROM %1$I.lists AS l
                    WHERE l.id IN (SELECT n.list_id FROM new_rows AS n WHERE n.list_id IS NOT NULL AND n.deleted_at IS NULL)
                ) AS c;
            ELSIF TG_OP = 'DELETE' THEN
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT o.user_id AS u, 'task' AS e, o.id AS i, now() AS p FROM old_rows AS o
                    UNION ALL
                    SELECT l.user_id, 'list', l.id, NULL FROM %1$I.lists AS l
                    WHERE l.id IN (SELECT o.list_id FROM old_rows AS o WHERE o.list_id IS NOT NULL AND o.deleted_at IS NULL)
                ) AS c;
            ELSE
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT n.user_id AS u, 'task' AS e, n.id AS i, NULL::timestamptz AS p FROM new_rows AS n
                    UNION ALL
                    SELECT l.user_id, 'list', l.id, NULL FROM %1$I.lists AS l WHERE l.id IN (
                        SELECT unnest(ARRAY[o.list_id, n.list_id]) FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
                        WHERE (o.deleted_at IS NULL) <> (n.deleted_at IS NULL)
                           OR (o.deleted_at IS NULL AND n.deleted_at IS NULL
                               AND (o.list_id IS DISTINCT FROM n.list_id OR o.completed <> n.completed)))
                ) AS c;
            END IF;
            PERFORM %1$I.change_log_apply(u, e, i, p);
            RETURN NULL;
        END
        $body$
    $fn$, current_schema());
END
$do$;
--bun:split
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION %1$I.lists_changes() RETURNS trigger LANGUAGE plpgsql AS $body$
        DECLARE
            u text[]; e text[]; i bigint[]; p timestamptz[];
        BEGIN
            IF TG_OP = 'DELETE' THEN
                SELECT array_agg(o.user_id), array_agg('list'::text), array_agg(o.id), array_agg(now()) INTO u, e, i, p FROM old_rows AS o;
            ELSE
                SELECT array_agg(n.user_id), array_agg('list'::text), array_agg(n.id), array_agg(NULL::timestamptz) INTO u, e, i, p FROM new_rows AS n;
            END IF;
            PERFORM %1$I.change_log_apply(u, e, i, p);
            RETURN NULL;
        END
        $body$
    $fn$, current_schema());
END
$do$;
--bun:split
DROP VIEW list_readers;
