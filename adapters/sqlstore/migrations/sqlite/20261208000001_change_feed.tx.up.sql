-- See the PostgreSQL migration of the same name for what each part means.
-- SQLite runs one writing transaction at a time, which holds the write
-- lock to its end: numbers taken in it follow commit order without a lock
-- of their own. The triggers are per row. purged_at is in Unix seconds.
-- stamp orders the heads' changes across users, so that the store can find
-- which heads a commit moved (sqlstore's feed.go: the publisher).
CREATE TABLE change_heads (
    user_id    TEXT    NOT NULL PRIMARY KEY,
    seq        INTEGER NOT NULL DEFAULT 0,
    pruned_seq INTEGER NOT NULL DEFAULT 0,
    stamp      INTEGER NOT NULL DEFAULT 0
);
--bun:split
CREATE INDEX change_heads_stamp_idx ON change_heads (stamp);
--bun:split
CREATE TABLE change_log (
    entity    TEXT    NOT NULL CONSTRAINT change_log_entity CHECK (entity IN ('task', 'list')),
    id        INTEGER NOT NULL,
    user_id   TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    purged_at INTEGER NULL,
    PRIMARY KEY (entity, id)
) WITHOUT ROWID;
--bun:split
CREATE UNIQUE INDEX change_log_user_seq ON change_log (user_id, seq);
--bun:split
CREATE INDEX change_log_purged_idx ON change_log (purged_at) WHERE purged_at IS NOT NULL;
--bun:split
INSERT INTO change_log (entity, id, user_id, seq)
SELECT entity, id, user_id, row_number() OVER (PARTITION BY user_id ORDER BY entity DESC, id)
FROM (SELECT 'list' AS entity, id, user_id FROM lists UNION ALL SELECT 'task', id, user_id FROM tasks) AS e;
--bun:split
INSERT INTO change_heads (user_id, seq, stamp) SELECT user_id, max(seq), 0 FROM change_log GROUP BY user_id;
--bun:split
CREATE TRIGGER tasks_changes_insert AFTER INSERT ON tasks
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    VALUES (NEW.user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads))
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    VALUES ('task', NEW.id, NEW.user_id, (SELECT seq FROM change_heads WHERE user_id = NEW.user_id), NULL)
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = excluded.purged_at;
END;
--bun:split
CREATE TRIGGER tasks_changes_insert_list AFTER INSERT ON tasks WHEN NEW.list_id IS NOT NULL AND NEW.deleted_at IS NULL
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    SELECT user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads) FROM lists WHERE id = NEW.list_id
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    SELECT 'list', l.id, l.user_id, h.seq, NULL FROM lists AS l JOIN change_heads AS h ON h.user_id = l.user_id WHERE l.id = NEW.list_id
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = NULL;
END;
--bun:split
CREATE TRIGGER tasks_changes_update AFTER UPDATE ON tasks
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    VALUES (NEW.user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads))
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    VALUES ('task', NEW.id, NEW.user_id, (SELECT seq FROM change_heads WHERE user_id = NEW.user_id), NULL)
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = excluded.purged_at;
END;
--bun:split
CREATE TRIGGER tasks_changes_update_list AFTER UPDATE ON tasks
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
  OR (OLD.deleted_at IS NULL AND NEW.deleted_at IS NULL AND (OLD.list_id IS NOT NEW.list_id OR OLD.completed IS NOT NEW.completed))
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    SELECT user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads) FROM lists WHERE id = OLD.list_id
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    SELECT 'list', l.id, l.user_id, h.seq, NULL FROM lists AS l JOIN change_heads AS h ON h.user_id = l.user_id WHERE l.id = OLD.list_id
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = NULL;
    INSERT INTO change_heads (user_id, seq, stamp)
    SELECT user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads) FROM lists WHERE id = NEW.list_id AND NEW.list_id IS NOT OLD.list_id
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    SELECT 'list', l.id, l.user_id, h.seq, NULL FROM lists AS l JOIN change_heads AS h ON h.user_id = l.user_id WHERE l.id = NEW.list_id AND NEW.list_id IS NOT OLD.list_id
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = NULL;
END;
--bun:split
CREATE TRIGGER tasks_changes_delete AFTER DELETE ON tasks
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    VALUES (OLD.user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads))
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    VALUES ('task', OLD.id, OLD.user_id, (SELECT seq FROM change_heads WHERE user_id = OLD.user_id), CAST(strftime('%s', 'now') AS INTEGER))
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = excluded.purged_at;
END;
--bun:split
CREATE TRIGGER tasks_changes_delete_list AFTER DELETE ON tasks WHEN OLD.list_id IS NOT NULL AND OLD.deleted_at IS NULL
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    SELECT user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads) FROM lists WHERE id = OLD.list_id
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    SELECT 'list', l.id, l.user_id, h.seq, NULL FROM lists AS l JOIN change_heads AS h ON h.user_id = l.user_id WHERE l.id = OLD.list_id
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = NULL;
END;
--bun:split
CREATE TRIGGER lists_changes_insert AFTER INSERT ON lists
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    VALUES (NEW.user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads))
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    VALUES ('list', NEW.id, NEW.user_id, (SELECT seq FROM change_heads WHERE user_id = NEW.user_id), NULL)
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = excluded.purged_at;
END;
--bun:split
CREATE TRIGGER lists_changes_update AFTER UPDATE ON lists
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    VALUES (NEW.user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads))
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    VALUES ('list', NEW.id, NEW.user_id, (SELECT seq FROM change_heads WHERE user_id = NEW.user_id), NULL)
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = excluded.purged_at;
END;
--bun:split
CREATE TRIGGER lists_changes_delete AFTER DELETE ON lists
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    VALUES (OLD.user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads))
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    VALUES ('list', OLD.id, OLD.user_id, (SELECT seq FROM change_heads WHERE user_id = OLD.user_id), CAST(strftime('%s', 'now') AS INTEGER))
    ON CONFLICT (entity, id) DO UPDATE SET seq = excluded.seq, purged_at = excluded.purged_at;
END;
