DROP TRIGGER list_members_changes_update;
--bun:split
DROP TRIGGER list_members_changes_delete;
--bun:split
DROP TRIGGER list_members_changes_insert;
--bun:split
DROP TRIGGER lists_changes_delete;
--bun:split
DROP TRIGGER lists_changes_update;
--bun:split
DROP TRIGGER lists_changes_insert;
--bun:split
DROP TRIGGER tasks_changes_delete_list;
--bun:split
DROP TRIGGER tasks_changes_delete;
--bun:split
DROP TRIGGER tasks_changes_update_list;
--bun:split
DROP TRIGGER tasks_changes_update_lost;
--bun:split
DROP TRIGGER tasks_changes_update;
--bun:split
DROP TRIGGER tasks_changes_insert_list;
--bun:split
DROP TRIGGER tasks_changes_insert;
--bun:split
DROP TRIGGER change_apply_insert;
--bun:split
DROP VIEW change_apply;
--bun:split
DROP VIEW list_readers;
--bun:split
CREATE TABLE change_log_entities (
    entity    TEXT    NOT NULL CONSTRAINT change_log_entity CHECK (entity IN ('task', 'list')),
    id        INTEGER NOT NULL,
    user_id   TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    purged_at INTEGER NULL,
    PRIMARY KEY (entity, id)
) WITHOUT ROWID;
--bun:split
-- Back to one entry per entity: its owner's (any one for a tombstone).
INSERT OR IGNORE INTO change_log_entities (entity, id, user_id, seq, purged_at)
SELECT c.entity, c.id, c.user_id, c.seq, c.purged_at FROM change_log AS c
ORDER BY NOT EXISTS (SELECT 1 FROM tasks AS t WHERE c.entity = 'task' AND t.id = c.id AND t.user_id = c.user_id)
     AND NOT EXISTS (SELECT 1 FROM lists AS l WHERE c.entity = 'list' AND l.id = c.id AND l.user_id = c.user_id);
--bun:split
DROP TABLE change_log;
--bun:split
ALTER TABLE change_log_entities RENAME TO change_log;
--bun:split
CREATE UNIQUE INDEX change_log_user_seq ON change_log (user_id, seq);
--bun:split
CREATE INDEX change_log_purged_idx ON change_log (purged_at) WHERE purged_at IS NOT NULL;
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
