-- Back to 20261211000010's function: only a new role is a change.
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION %1$I.list_members_changes() RETURNS trigger LANGUAGE plpgsql AS $body$
        DECLARE
            u text[]; e text[]; i bigint[]; p timestamptz[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                PERFORM FROM %1$I.lists AS l WHERE l.id IN (SELECT n.list_id FROM new_rows AS n) ORDER BY l.id FOR UPDATE;
                PERFORM FROM %1$I.tasks AS t WHERE t.list_id IN (SELECT n.list_id FROM new_rows AS n) ORDER BY t.id FOR SHARE;
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT n.user_id AS u, 'list' AS e, n.list_id AS i, NULL::timestamptz AS p FROM new_rows AS n
                    UNION
                    SELECT n.user_id, 'task', t.id, NULL FROM new_rows AS n JOIN %1$I.tasks AS t ON t.list_id = n.list_id
                ) AS c;
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM FROM %1$I.lists AS l WHERE l.id IN (SELECT o.list_id FROM old_rows AS o) ORDER BY l.id FOR UPDATE;
                PERFORM FROM %1$I.tasks AS t WHERE t.list_id IN (SELECT o.list_id FROM old_rows AS o) ORDER BY t.id FOR SHARE;
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT o.user_id AS u, 'list' AS e, o.list_id AS i, now() AS p FROM old_rows AS o
                    WHERE NOT EXISTS (SELECT FROM %1$I.list_readers AS r WHERE r.list_id = o.list_id AND r.user_id = o.user_id)
                    UNION
                    SELECT o.user_id, 'task', t.id, now() FROM old_rows AS o JOIN %1$I.tasks AS t ON t.list_id = o.list_id
                    WHERE t.user_id <> o.user_id
                      AND NOT EXISTS (SELECT FROM %1$I.list_readers AS r WHERE r.list_id = o.list_id AND r.user_id = o.user_id)
                ) AS c;
            ELSE
                SELECT array_agg(n.user_id), array_agg('list'::text), array_agg(n.list_id), array_agg(NULL::timestamptz) INTO u, e, i, p
                FROM new_rows AS n JOIN old_rows AS o ON o.list_id = n.list_id AND o.user_id = n.user_id WHERE o.role <> n.role;
            END IF;
            PERFORM %1$I.change_log_apply(u, e, i, p);
            RETURN NULL;
        END
        $body$
    $fn$, current_schema());
END
$do$;
--bun:split
ALTER TABLE list_members DROP COLUMN sort_key, DROP COLUMN position;
