-- Shared lists in the change feed (issue 19). change_log becomes per
-- recipient: a change to a task or a list gets a number in the sequence of
-- every user who reads it (list_readers: the list's owner and its
-- members), in the same statement, so each reader's feed stays in commit
-- order (change_log_apply locks the heads in user order, as before). A
-- reader who loses an entity (a membership removed, a task moved out of a
-- shared list, a list handed over) gets a tombstone for it in its own
-- sequence; one who gains it (a membership added, a task moved in) gets an
-- upsert. An entry that is not a tombstone exists only while its user
-- reaches the entity: the feed reads the entity's data by id.
ALTER TABLE change_log DROP CONSTRAINT change_log_pkey, ADD PRIMARY KEY (entity, id, user_id);
--bun:split
-- Who reads a list and its tasks: the owner, and every member (every role
-- allows domain/list's ActRead). The one definition the feed's triggers
-- use.
CREATE VIEW list_readers (list_id, user_id) AS
SELECT l.id, l.user_id FROM lists AS l
UNION ALL
SELECT m.list_id, m.user_id FROM list_members AS m;
--bun:split
-- As in 20261208000001, with the key (entity, id, user_id): u holds the
-- recipients, each (u, e, i) once.
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
                    ON CONFLICT (entity, id, user_id) DO UPDATE SET seq = EXCLUDED.seq, purged_at = EXCLUDED.purged_at
                    RETURNING c.user_id, c.seq
                )
                SELECT count(*) INTO n FROM w;
                PERFORM pg_sleep(random() * 0.005);
                INSERT INTO %1$I.change_heads AS h (user_id, seq)
                SELECT x.u, max(c.seq) FROM unnest(u, e, i) AS x(u, e, i)
                JOIN %1$I.change_log AS c ON c.entity = x.e AND c.id = x.i AND c.user_id = x.u
                GROUP BY x.u ORDER BY x.u
                ON CONFLICT (user_id) DO UPDATE SET seq = greatest(h.seq, EXCLUDED.seq);
                RETURN;
            END IF;
            IF u[1] = ALL(u) THEN
                n := cardinality(u);
                INSERT INTO %1$I.change_heads AS h (user_id, seq) VALUES (u[1], n)
                ON CONFLICT (user_id) DO UPDATE SET seq = h.seq + EXCLUDED.seq
                RETURNING h.seq INTO s;
                INSERT INTO %1$I.change_log AS c (entity, id, user_id, seq, purged_at)
                SELECT x.e, x.i, u[1], s - n + x.k, x.p FROM unnest(e, i, p) WITH ORDINALITY AS x(e, i, p, k)
                ON CONFLICT (entity, id, user_id) DO UPDATE SET seq = EXCLUDED.seq, purged_at = EXCLUDED.purged_at;
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
                ON CONFLICT (entity, id, user_id) DO UPDATE SET seq = EXCLUDED.seq, purged_at = EXCLUDED.purged_at
            )
            SELECT count(pg_notify('todo_changes', h.seq::text || ' ' || h.user_id)) INTO n FROM h
            WHERE EXISTS (SELECT FROM %1$I.change_watchers AS w WHERE w.user_id = h.user_id AND w.expires_at > now());
        END
        $body$
    $fn$, current_schema());
END
$do$;
--bun:split
-- The changes of a statement on tasks, for every reader: each task it
-- wrote, for its owner and the readers of its list; a tombstone for each
-- task it deleted, for its owner and everyone who holds an entry of it
-- that is not a tombstone (whatever a cascade removed first: the list's
-- memberships, or the list); a tombstone for each holder who no longer
-- reaches a task it moved (to another list, or to another owner); each
-- list whose counts it changed, for the list's readers. UNION: each
-- (user, entity, id) once.
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION %1$I.tasks_changes() RETURNS trigger LANGUAGE plpgsql AS $body$
        DECLARE
            u text[]; e text[]; i bigint[]; p timestamptz[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF NOT EXISTS (SELECT FROM %1$I.list_members AS m
                               WHERE m.list_id = ANY (ARRAY(SELECT n.list_id FROM new_rows AS n WHERE n.list_id IS NOT NULL))) THEN
                    -- No list of the rows is shared: as before sharing.
                    SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                        SELECT n.user_id AS u, 'task' AS e, n.id AS i, NULL::timestamptz AS p FROM new_rows AS n
                        UNION ALL
                        SELECT l.user_id, 'list', l.id, NULL FROM %1$I.lists AS l
                        WHERE l.id IN (SELECT n.list_id FROM new_rows AS n WHERE n.list_id IS NOT NULL AND n.deleted_at IS NULL)
                    ) AS c;
                ELSE
                    SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                        SELECT n.user_id AS u, 'task' AS e, n.id AS i, NULL::timestamptz AS p FROM new_rows AS n
                        UNION
                        SELECT r.user_id, 'task', n.id, NULL FROM new_rows AS n JOIN %1$I.list_readers AS r ON r.list_id = n.list_id
                        UNION
                        SELECT r.user_id, 'list', r.list_id, NULL FROM %1$I.list_readers AS r
                        WHERE r.list_id IN (SELECT n.list_id FROM new_rows AS n WHERE n.list_id IS NOT NULL AND n.deleted_at IS NULL)
                    ) AS c;
                END IF;
            ELSIF TG_OP = 'DELETE' THEN
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT o.user_id AS u, 'task' AS e, o.id AS i, now() AS p FROM old_rows AS o
                    UNION
                    SELECT h.user_id, 'task', o.id, now() FROM old_rows AS o
                    JOIN %1$I.change_log AS h ON h.entity = 'task' AND h.id = o.id AND h.purged_at IS NULL
                    UNION
                    SELECT r.user_id, 'list', r.list_id, NULL FROM %1$I.list_readers AS r
                    WHERE r.list_id IN (SELECT o.list_id FROM old_rows AS o WHERE o.list_id IS NOT NULL AND o.deleted_at IS NULL)
                ) AS c;
            ELSIF NOT EXISTS (SELECT FROM %1$I.list_members AS m WHERE m.list_id = ANY (ARRAY(
                                  SELECT n.list_id FROM new_rows AS n WHERE n.list_id IS NOT NULL
                                  UNION ALL SELECT o.list_id FROM old_rows AS o WHERE o.list_id IS NOT NULL)))
                  AND (SELECT min(x.user_id) = max(x.user_id) FROM (
                           SELECT n.user_id FROM new_rows AS n UNION ALL SELECT o.user_id FROM old_rows AS o) AS x) THEN
                -- No list of the rows is shared and the rows have one
                -- owner, before and after: as before sharing (nobody else
                -- holds them). Each test reads the transition tables once
                -- (no join of them: a statement of 40,000 rows stays
                -- linear).
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT n.user_id AS u, 'task' AS e, n.id AS i, NULL::timestamptz AS p FROM new_rows AS n
                    UNION ALL
                    SELECT l.user_id, 'list', l.id, NULL FROM %1$I.lists AS l WHERE l.id IN (
                        SELECT unnest(ARRAY[o.list_id, n.list_id]) FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
                        WHERE (o.deleted_at IS NULL) <> (n.deleted_at IS NULL)
                           OR (o.deleted_at IS NULL AND n.deleted_at IS NULL
                               AND (o.list_id IS DISTINCT FROM n.list_id OR o.completed <> n.completed)))
                ) AS c;
            ELSE
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT n.user_id AS u, 'task' AS e, n.id AS i, NULL::timestamptz AS p FROM new_rows AS n
                    UNION
                    SELECT r.user_id, 'task', n.id, NULL FROM new_rows AS n JOIN %1$I.list_readers AS r ON r.list_id = n.list_id
                    UNION
                    SELECT lost.u, 'task', lost.i, now() FROM (
                        SELECT h.user_id AS u, n.id AS i FROM new_rows AS n
                        JOIN %1$I.change_log AS h ON h.entity = 'task' AND h.id = n.id AND h.purged_at IS NULL
                        EXCEPT
                        SELECT n.user_id, n.id FROM new_rows AS n
                        EXCEPT
                        SELECT r.user_id, n.id FROM new_rows AS n JOIN %1$I.list_readers AS r ON r.list_id = n.list_id
                    ) AS lost
                    UNION
                    SELECT r.user_id, 'list', r.list_id, NULL FROM %1$I.list_readers AS r WHERE r.list_id IN (
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
-- The changes of a statement on lists, for every reader; a list deleted
-- for good, a tombstone for everyone who holds it; one handed over, a
-- tombstone for each holder who is no longer a reader.
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION %1$I.lists_changes() RETURNS trigger LANGUAGE plpgsql AS $body$
        DECLARE
            u text[]; e text[]; i bigint[]; p timestamptz[];
        BEGIN
            IF TG_OP = 'DELETE' THEN
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT o.user_id AS u, 'list' AS e, o.id AS i, now() AS p FROM old_rows AS o
                    UNION
                    SELECT h.user_id, 'list', o.id, now() FROM old_rows AS o
                    JOIN %1$I.change_log AS h ON h.entity = 'list' AND h.id = o.id AND h.purged_at IS NULL
                ) AS c;
            ELSIF TG_OP = 'INSERT' THEN
                SELECT array_agg(n.user_id), array_agg('list'::text), array_agg(n.id), array_agg(NULL::timestamptz) INTO u, e, i, p FROM new_rows AS n;
            ELSE
                SELECT array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(c.p) INTO u, e, i, p FROM (
                    SELECT r.user_id AS u, 'list' AS e, n.id AS i, NULL::timestamptz AS p
                    FROM new_rows AS n JOIN %1$I.list_readers AS r ON r.list_id = n.id
                    UNION
                    SELECT h.user_id, 'list', o.id, now() FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
                    JOIN %1$I.change_log AS h ON h.entity = 'list' AND h.id = o.id AND h.purged_at IS NULL
                    WHERE o.user_id <> n.user_id
                      AND NOT EXISTS (SELECT FROM %1$I.list_readers AS r WHERE r.list_id = o.id AND r.user_id = h.user_id)
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
-- Memberships: a new member gets the list and all its tasks (live and in
-- the trash, as the feed shows them); a removed one, tombstones for them,
-- unless it still reads the list (a new owner's membership removed by a
-- transfer); a changed role, the list again.
--
-- A membership change must not cross a write to the list's tasks: a task
-- inserted meanwhile would reach neither the new member (this statement
-- does not see it) nor be numbered for it (the writer's trigger did not
-- see the membership), and a toggle whose trigger ran before the commit of
-- the membership would never be numbered for the member. So it locks the
-- list row FOR UPDATE (task inserts and moves into the list hold it FOR
-- KEY SHARE: tasks_list_live) and the list's tasks FOR SHARE (a write
-- holds its task rows), in the lock order (list row, then tasks by id),
-- before it reads the tasks: whichever comes second reads the other's
-- commit (each statement of a plpgsql function takes a new snapshot).
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.list_members_changes() RETURNS trigger LANGUAGE plpgsql AS $body$
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
CREATE TRIGGER list_members_changes_insert AFTER INSERT ON list_members REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION list_members_changes();
--bun:split
CREATE TRIGGER list_members_changes_delete AFTER DELETE ON list_members REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION list_members_changes();
--bun:split
CREATE TRIGGER list_members_changes_update AFTER UPDATE ON list_members REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION list_members_changes();
--bun:split
-- The memberships that exist: their lists and tasks in their members' feeds.
SELECT change_log_apply(array_agg(c.u), array_agg(c.e), array_agg(c.i), array_agg(NULL::timestamptz)) FROM (
    SELECT m.user_id AS u, 'list' AS e, m.list_id AS i FROM list_members AS m
    UNION
    SELECT m.user_id, 'task', t.id FROM list_members AS m JOIN tasks AS t ON t.list_id = m.list_id
) AS c;
