-- See the PostgreSQL migration of the same name. The triggers are per row
-- and hand each (user, entity, id) to change_apply, a view whose INSTEAD OF
-- trigger numbers it in the user's sequence: one place for the numbering.
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
DROP TRIGGER tasks_changes_update;
--bun:split
DROP TRIGGER tasks_changes_insert_list;
--bun:split
DROP TRIGGER tasks_changes_insert;
--bun:split
CREATE TABLE change_log_recipients (
    entity    TEXT    NOT NULL CONSTRAINT change_log_entity CHECK (entity IN ('task', 'list')),
    id        INTEGER NOT NULL,
    user_id   TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    purged_at INTEGER NULL,
    PRIMARY KEY (entity, id, user_id)
) WITHOUT ROWID;
--bun:split
INSERT INTO change_log_recipients (entity, id, user_id, seq, purged_at) SELECT entity, id, user_id, seq, purged_at FROM change_log;
--bun:split
DROP TABLE change_log;
--bun:split
ALTER TABLE change_log_recipients RENAME TO change_log;
--bun:split
CREATE UNIQUE INDEX change_log_user_seq ON change_log (user_id, seq);
--bun:split
CREATE INDEX change_log_purged_idx ON change_log (purged_at) WHERE purged_at IS NOT NULL;
--bun:split
CREATE VIEW list_readers (list_id, user_id) AS
SELECT l.id, l.user_id FROM lists AS l
UNION ALL
SELECT m.list_id, m.user_id FROM list_members AS m;
--bun:split
CREATE VIEW change_apply (user_id, entity, id, purged_at) AS SELECT user_id, entity, id, purged_at FROM change_log WHERE 0;
--bun:split
CREATE TRIGGER change_apply_insert INSTEAD OF INSERT ON change_apply
BEGIN
    INSERT INTO change_heads (user_id, seq, stamp)
    VALUES (NEW.user_id, 1, (SELECT coalesce(max(stamp), 0) + 1 FROM change_heads))
    ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1, stamp = excluded.stamp;
    INSERT INTO change_log (entity, id, user_id, seq, purged_at)
    VALUES (NEW.entity, NEW.id, NEW.user_id, (SELECT seq FROM change_heads WHERE user_id = NEW.user_id), NEW.purged_at)
    ON CONFLICT (entity, id, user_id) DO UPDATE SET seq = excluded.seq, purged_at = excluded.purged_at;
END;
--bun:split
CREATE TRIGGER tasks_changes_insert AFTER INSERT ON tasks
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT x.u, 'task', NEW.id, NULL FROM (
        SELECT NEW.user_id AS u UNION SELECT r.user_id FROM list_readers AS r WHERE r.list_id = NEW.list_id
    ) AS x;
END;
--bun:split
CREATE TRIGGER tasks_changes_insert_list AFTER INSERT ON tasks WHEN NEW.list_id IS NOT NULL AND NEW.deleted_at IS NULL
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT DISTINCT r.user_id, 'list', r.list_id, NULL FROM list_readers AS r WHERE r.list_id = NEW.list_id;
END;
--bun:split
CREATE TRIGGER tasks_changes_update AFTER UPDATE ON tasks
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT x.u, 'task', NEW.id, NULL FROM (
        SELECT NEW.user_id AS u UNION SELECT r.user_id FROM list_readers AS r WHERE r.list_id = NEW.list_id
    ) AS x;
END;
--bun:split
CREATE TRIGGER tasks_changes_update_lost AFTER UPDATE ON tasks
WHEN OLD.user_id <> NEW.user_id OR OLD.list_id IS NOT NEW.list_id
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT x.u, 'task', NEW.id, CAST(strftime('%s', 'now') AS INTEGER) FROM (
        SELECT h.user_id AS u FROM change_log AS h WHERE h.entity = 'task' AND h.id = OLD.id AND h.purged_at IS NULL
        EXCEPT SELECT NEW.user_id
        EXCEPT SELECT r.user_id FROM list_readers AS r WHERE r.list_id = NEW.list_id
    ) AS x;
END;
--bun:split
CREATE TRIGGER tasks_changes_update_list AFTER UPDATE ON tasks
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
  OR (OLD.deleted_at IS NULL AND NEW.deleted_at IS NULL AND (OLD.list_id IS NOT NEW.list_id OR OLD.completed IS NOT NEW.completed))
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT DISTINCT r.user_id, 'list', r.list_id, NULL FROM list_readers AS r
    WHERE r.list_id = OLD.list_id OR (r.list_id = NEW.list_id AND NEW.list_id IS NOT OLD.list_id);
END;
--bun:split
CREATE TRIGGER tasks_changes_delete AFTER DELETE ON tasks
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT x.u, 'task', OLD.id, CAST(strftime('%s', 'now') AS INTEGER) FROM (
        SELECT OLD.user_id AS u
        UNION SELECT h.user_id FROM change_log AS h WHERE h.entity = 'task' AND h.id = OLD.id AND h.purged_at IS NULL
    ) AS x;
END;
--bun:split
CREATE TRIGGER tasks_changes_delete_list AFTER DELETE ON tasks WHEN OLD.list_id IS NOT NULL AND OLD.deleted_at IS NULL
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT DISTINCT r.user_id, 'list', l.id, NULL FROM lists AS l JOIN list_readers AS r ON r.list_id = l.id WHERE l.id = OLD.list_id;
END;
--bun:split
CREATE TRIGGER lists_changes_insert AFTER INSERT ON lists
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at) VALUES (NEW.user_id, 'list', NEW.id, NULL);
END;
--bun:split
CREATE TRIGGER lists_changes_update AFTER UPDATE ON lists
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT DISTINCT r.user_id, 'list', NEW.id, NULL FROM list_readers AS r WHERE r.list_id = NEW.id;
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT h.user_id, 'list', OLD.id, CAST(strftime('%s', 'now') AS INTEGER) FROM change_log AS h
    WHERE OLD.user_id <> NEW.user_id AND h.entity = 'list' AND h.id = OLD.id AND h.purged_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM list_readers AS r WHERE r.list_id = OLD.id AND r.user_id = h.user_id);
END;
--bun:split
CREATE TRIGGER lists_changes_delete AFTER DELETE ON lists
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT x.u, 'list', OLD.id, CAST(strftime('%s', 'now') AS INTEGER) FROM (
        SELECT OLD.user_id AS u
        UNION SELECT h.user_id FROM change_log AS h WHERE h.entity = 'list' AND h.id = OLD.id AND h.purged_at IS NULL
    ) AS x;
END;
--bun:split
CREATE TRIGGER list_members_changes_insert AFTER INSERT ON list_members
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at) VALUES (NEW.user_id, 'list', NEW.list_id, NULL);
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT NEW.user_id, 'task', t.id, NULL FROM tasks AS t WHERE t.list_id = NEW.list_id AND t.user_id <> NEW.user_id ORDER BY t.id;
END;
--bun:split
CREATE TRIGGER list_members_changes_delete AFTER DELETE ON list_members
WHEN NOT EXISTS (SELECT 1 FROM list_readers AS r WHERE r.list_id = OLD.list_id AND r.user_id = OLD.user_id)
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    VALUES (OLD.user_id, 'list', OLD.list_id, CAST(strftime('%s', 'now') AS INTEGER));
    INSERT INTO change_apply (user_id, entity, id, purged_at)
    SELECT OLD.user_id, 'task', t.id, CAST(strftime('%s', 'now') AS INTEGER) FROM tasks AS t
    WHERE t.list_id = OLD.list_id AND t.user_id <> OLD.user_id ORDER BY t.id;
END;
--bun:split
CREATE TRIGGER list_members_changes_update AFTER UPDATE ON list_members WHEN OLD.role <> NEW.role
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at) VALUES (NEW.user_id, 'list', NEW.list_id, NULL);
END;
--bun:split
INSERT INTO change_apply (user_id, entity, id, purged_at)
SELECT m.user_id, 'list', m.list_id, NULL FROM list_members AS m
UNION ALL
SELECT m.user_id, 'task', t.id, NULL FROM list_members AS m JOIN tasks AS t ON t.list_id = m.list_id;
