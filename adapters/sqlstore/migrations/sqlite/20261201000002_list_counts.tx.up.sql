-- See the PostgreSQL migration of the same name. SQLite's triggers are per
-- row and one transaction writes at a time: no lock order to keep.
CREATE TABLE list_counts (
    list_id   INTEGER NOT NULL PRIMARY KEY,
    live      INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0
);
--bun:split
CREATE TRIGGER list_counts_insert AFTER INSERT ON tasks WHEN NEW.list_id IS NOT NULL AND NEW.deleted_at IS NULL
BEGIN
    INSERT INTO list_counts (list_id, live, completed) VALUES (NEW.list_id, 1, CASE WHEN NEW.completed THEN 1 ELSE 0 END)
    ON CONFLICT (list_id) DO UPDATE SET live = live + excluded.live, completed = completed + excluded.completed;
END;
--bun:split
CREATE TRIGGER list_counts_delete AFTER DELETE ON tasks WHEN OLD.list_id IS NOT NULL AND OLD.deleted_at IS NULL
BEGIN
    UPDATE list_counts SET live = live - 1, completed = completed - CASE WHEN OLD.completed THEN 1 ELSE 0 END
    WHERE list_id = OLD.list_id;
END;
--bun:split
CREATE TRIGGER list_counts_update AFTER UPDATE OF completed, deleted_at, list_id ON tasks
WHEN OLD.completed IS NOT NEW.completed OR OLD.deleted_at IS NOT NEW.deleted_at OR OLD.list_id IS NOT NEW.list_id
BEGIN
    UPDATE list_counts SET live = live - 1, completed = completed - CASE WHEN OLD.completed THEN 1 ELSE 0 END
    WHERE list_id = OLD.list_id AND OLD.deleted_at IS NULL;
    INSERT INTO list_counts (list_id, live, completed)
    SELECT NEW.list_id, 1, CASE WHEN NEW.completed THEN 1 ELSE 0 END WHERE NEW.list_id IS NOT NULL AND NEW.deleted_at IS NULL
    ON CONFLICT (list_id) DO UPDATE SET live = live + excluded.live, completed = completed + excluded.completed;
END;
