-- Back to the index on stamp (20261214000010).
CREATE INDEX change_heads_stamp_idx ON change_heads (stamp) WHERE stamp > 0;
--bun:split
DROP INDEX change_heads_stamp_block_idx;
--bun:split
-- 20261214000010's function, which does not know stamp_block.
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION %1$I.change_log_apply(u text[], e text[], i bigint[], p timestamptz[]) RETURNS void LANGUAGE plpgsql AS $body$
        DECLARE
            n bigint;
            s bigint;
            stamped bigint;
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
                stamped := CASE WHEN EXISTS (SELECT FROM %1$I.change_watchers AS w WHERE w.user_id = u[1] AND w.expires_at > now())
                          THEN pg_current_xact_id()::text::bigint ELSE 0 END;
                INSERT INTO %1$I.change_heads AS h (user_id, seq, stamp) VALUES (u[1], n, stamped)
                ON CONFLICT (user_id) DO UPDATE SET seq = h.seq + EXCLUDED.seq, stamp = greatest(h.stamp, EXCLUDED.stamp)
                RETURNING h.seq INTO s;
                INSERT INTO %1$I.change_log AS c (entity, id, user_id, seq, purged_at)
                SELECT x.e, x.i, u[1], s - n + x.k, x.p FROM unnest(e, i, p) WITH ORDINALITY AS x(e, i, p, k)
                ON CONFLICT (entity, id, user_id) DO UPDATE SET seq = EXCLUDED.seq, purged_at = EXCLUDED.purged_at;
                RETURN;
            END IF;
            WITH ch AS (
                SELECT x.u, x.e, x.i, x.p, row_number() OVER (PARTITION BY x.u ORDER BY x.e, x.i) AS k,
                       count(*) OVER (PARTITION BY x.u) AS m
                FROM unnest(u, e, i, p) AS x(u, e, i, p)
            ), h AS (
                INSERT INTO %1$I.change_heads AS h (user_id, seq, stamp)
                SELECT ch.u, max(ch.m), CASE WHEN EXISTS (SELECT FROM %1$I.change_watchers AS w WHERE w.user_id = ch.u AND w.expires_at > now())
                                             THEN pg_current_xact_id()::text::bigint ELSE 0 END
                FROM ch GROUP BY ch.u ORDER BY ch.u
                ON CONFLICT (user_id) DO UPDATE SET seq = h.seq + EXCLUDED.seq, stamp = greatest(h.stamp, EXCLUDED.stamp)
                RETURNING h.user_id, h.seq
            ), w AS (
                INSERT INTO %1$I.change_log AS c (entity, id, user_id, seq, purged_at)
                SELECT ch.e, ch.i, ch.u, h.seq - ch.m + ch.k, ch.p FROM ch JOIN h ON h.user_id = ch.u
                ON CONFLICT (entity, id, user_id) DO UPDATE SET seq = EXCLUDED.seq, purged_at = EXCLUDED.purged_at
            )
            SELECT count(*) INTO n FROM h;
        END
        $body$
    $fn$, current_schema());
END
$do$;
--bun:split
ALTER TABLE change_heads DROP COLUMN stamp_block;
