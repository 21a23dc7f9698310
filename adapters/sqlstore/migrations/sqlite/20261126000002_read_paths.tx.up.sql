-- See the PostgreSQL migration of the same name for what each part means.
-- SQLite's triggers are per row; a row written many times in one
-- transaction costs nothing special here. The migration's transaction holds
-- the database's write lock throughout.
CREATE TRIGGER task_tags_copy_insert AFTER INSERT ON task_tags
BEGIN
    UPDATE tasks SET tags = (SELECT json_group_array(tag ORDER BY position) FROM task_tags WHERE task_id = NEW.task_id)
    WHERE id = NEW.task_id;
END;
--bun:split
CREATE TRIGGER task_tags_copy_delete AFTER DELETE ON task_tags
BEGIN
    UPDATE tasks SET tags = (SELECT json_group_array(tag ORDER BY position) FROM task_tags WHERE task_id = OLD.task_id)
    WHERE id = OLD.task_id;
END;
--bun:split
UPDATE tasks SET tags = (SELECT json_group_array(tag ORDER BY position) FROM task_tags WHERE task_id = tasks.id)
WHERE id IN (SELECT task_id FROM task_tags);
--bun:split
CREATE TABLE task_counts (
    user_id   TEXT    NOT NULL PRIMARY KEY,
    live      INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0
);
--bun:split
INSERT INTO task_counts (user_id, live, completed)
SELECT user_id, count(*), sum(CASE WHEN completed THEN 1 ELSE 0 END)
FROM tasks WHERE deleted_at IS NULL GROUP BY user_id;
--bun:split
CREATE TRIGGER tasks_counts_insert AFTER INSERT ON tasks WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO task_counts (user_id, live, completed) VALUES (NEW.user_id, 1, CASE WHEN NEW.completed THEN 1 ELSE 0 END)
    ON CONFLICT (user_id) DO UPDATE SET live = live + excluded.live, completed = completed + excluded.completed;
END;
--bun:split
CREATE TRIGGER tasks_counts_delete AFTER DELETE ON tasks WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE task_counts SET live = live - 1, completed = completed - CASE WHEN OLD.completed THEN 1 ELSE 0 END
    WHERE user_id = OLD.user_id;
END;
--bun:split
CREATE TRIGGER tasks_counts_update AFTER UPDATE OF completed, deleted_at ON tasks
WHEN OLD.completed IS NOT NEW.completed OR OLD.deleted_at IS NOT NEW.deleted_at
BEGIN
    INSERT INTO task_counts (user_id, live, completed) VALUES (
        NEW.user_id,
        (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE 0 END) - (CASE WHEN OLD.deleted_at IS NULL THEN 1 ELSE 0 END),
        (CASE WHEN NEW.deleted_at IS NULL AND NEW.completed THEN 1 ELSE 0 END) - (CASE WHEN OLD.deleted_at IS NULL AND OLD.completed THEN 1 ELSE 0 END)
    )
    ON CONFLICT (user_id) DO UPDATE SET live = live + excluded.live, completed = completed + excluded.completed;
END;
