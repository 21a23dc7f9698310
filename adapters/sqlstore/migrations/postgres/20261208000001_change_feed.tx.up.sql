-- Issue 16: the change feed. Every write to a user's tasks or lists takes
-- the next numbers of that user's change sequence (change_heads.seq) in
-- the statement that writes, and keeps the row lock on the user's head
-- until the transaction ends, so that numbers are handed out in commit
-- order: a reader that has seen number N never later finds a committed
-- change below N.
--
-- change_log holds, per entity (a task or a list), the number of its last
-- change: a write supersedes the entity's earlier number, so the feed is
-- the latest state of each entity at its last number (the data is read
-- from tasks and lists). A row whose purged_at is set is a tombstone: the
-- entity was deleted for good then. Retention (sqlstore's feed.go, Prune)
-- deletes old tombstones and raises pruned_seq, below which a cursor is too
-- old to be answered.
--
-- The lock order (see sqlstore's tree.go and 20261201000002) gains the
-- heads: scope lock, list row, task rows by id, change_heads by user, then
-- task_counts by user and list_counts by list. The triggers on tasks are
-- named so that they fire before the counters' (triggers of one event fire
-- in name order): every statement takes its users' heads before their
-- counters. change_log rows are written only by the holder of their
-- user's head.
CREATE TABLE change_heads (
    user_id    text   PRIMARY KEY,
    seq        bigint NOT NULL DEFAULT 0,
    pruned_seq bigint NOT NULL DEFAULT 0
);
--bun:split
CREATE TABLE change_log (
    entity    text        NOT NULL CONSTRAINT change_log_entity CHECK (entity IN ('task', 'list')),
    id        bigint      NOT NULL,
    user_id   text        NOT NULL,
    seq       bigint      NOT NULL,
    purged_at timestamptz NULL,
    PRIMARY KEY (entity, id)
);
--bun:split
-- The users someone listens for: a row per user and instance with live
-- event streams open (sqlstore's Listener keeps its rows, refreshing
-- expires_at while the streams stay; a crashed instance's rows expire).
-- Writers notify only for these users: a transaction that notifies holds
-- one lock for the whole database through its commit, which serialises
-- the commits of notifying transactions (3x fewer toggles in a pgbench
-- A/B), so users nobody listens for must not pay for it. UNLOGGED: after a
-- crash the table is empty and the listeners register again.
CREATE UNLOGGED TABLE change_watchers (
    user_id    text        NOT NULL,
    instance   text        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, instance)
);
--bun:split
-- The feed's read: one user's entries above a number, in order.
CREATE UNIQUE INDEX change_log_user_seq ON change_log (user_id, seq);
--bun:split
CREATE INDEX change_log_purged_idx ON change_log (purged_at) WHERE purged_at IS NOT NULL;
--bun:split
-- A test knob only (sqlstore's feed tests, the invariant test): with the
-- session setting todo.change_feed_test = 'unordered' numbers come from
-- this global sequence, taken before the head is locked, so that they no
-- longer follow commit order. Nothing sets it outside tests.
CREATE SEQUENCE change_unordered;
--bun:split
-- The entries that exist: every task and list, numbered per user.
INSERT INTO change_log (entity, id, user_id, seq)
SELECT entity, id, user_id, row_number() OVER (PARTITION BY user_id ORDER BY entity DESC, id)
FROM (SELECT 'list' AS entity, id, user_id FROM lists UNION ALL SELECT 'task', id, user_id FROM tasks) AS e;
--bun:split
INSERT INTO change_heads (user_id, seq) SELECT user_id, max(seq) FROM change_log GROUP BY user_id;
--bun:split
-- change_log_apply numbers the changes of one statement: u, e, i and p are
-- the users, entities, ids and purge times (NULL: an upsert) of the
-- entities it changed, each once. It locks the users' heads in user order
-- (as the counters are: two statements that touch several users never
-- wait on each other in a cycle), numbers each user's entities, and
-- notifies the channel todo_changes (application.ChangeChannel) with
-- '<head> <user id>' per user that has a listener (change_watchers):
-- listeners hear of it when, and only if, the transaction commits.
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.change_log_apply(u text[], e text[], i bigint[], p timestamptz[]) RETURNS void LANGUAGE plpgsql AS $body$
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
-- The changes of a statement on tasks: each task it wrote (a tombstone for
-- one it deleted), and each list whose counts it changed, when the list is
-- still there (a list deleted for good leaves its own tombstone).
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE FUNCTION %1$I.tasks_changes() RETURNS trigger LANGUAGE plpgsql AS $body$
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
        CREATE FUNCTION %1$I.lists_changes() RETURNS trigger LANGUAGE plpgsql AS $body$
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
CREATE TRIGGER tasks_changes_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION tasks_changes();
--bun:split
CREATE TRIGGER tasks_changes_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION tasks_changes();
--bun:split
CREATE TRIGGER tasks_changes_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION tasks_changes();
--bun:split
CREATE TRIGGER lists_changes_insert AFTER INSERT ON lists REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION lists_changes();
--bun:split
CREATE TRIGGER lists_changes_delete AFTER DELETE ON lists REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION lists_changes();
--bun:split
CREATE TRIGGER lists_changes_update AFTER UPDATE ON lists REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION lists_changes();
