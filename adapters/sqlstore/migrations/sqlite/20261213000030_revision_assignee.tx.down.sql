-- The history without the assignee (migration 20261212000010's triggers).
DROP TRIGGER tasks_revision;
--bun:split
DROP TRIGGER tasks_revision_create;
--bun:split
CREATE TRIGGER tasks_revision AFTER UPDATE ON tasks
WHEN OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description OR OLD.completed IS NOT NEW.completed
  OR OLD.priority IS NOT NEW.priority OR OLD.due_at IS NOT NEW.due_at OR OLD.due_all_day IS NOT NEW.due_all_day
  OR OLD.due_tz IS NOT NEW.due_tz OR OLD.due_floating IS NOT NEW.due_floating
  OR OLD.recurrence_rule IS NOT NEW.recurrence_rule OR OLD.recurrence_from IS NOT NEW.recurrence_from
  OR OLD.reminders IS NOT NEW.reminders OR OLD.tags IS NOT NEW.tags OR OLD.list_id IS NOT NEW.list_id
  OR OLD.parent_id IS NOT NEW.parent_id OR OLD.position IS NOT NEW.position
BEGIN
    INSERT INTO task_revisions (task_id, version, user_id, by_user, fields, at)
    SELECT NEW.id, NEW.version, NEW.user_id, COALESCE(NEW.updated_by, NEW.user_id), json_group_object(k, json(v)), NEW.updated_at FROM (
        SELECT 'title' AS k, json_object('from', OLD.title, 'to', NEW.title) AS v WHERE OLD.title IS NOT NEW.title
        UNION ALL SELECT 'description', json_object('from', OLD.description, 'to', NEW.description) WHERE OLD.description IS NOT NEW.description
        UNION ALL SELECT 'completed', json_object('from', json(CASE WHEN OLD.completed THEN 'true' ELSE 'false' END), 'to', json(CASE WHEN NEW.completed THEN 'true' ELSE 'false' END))
            WHERE OLD.completed IS NOT NEW.completed
        UNION ALL SELECT 'priority', json_object('from', OLD.priority, 'to', NEW.priority) WHERE OLD.priority IS NOT NEW.priority
        UNION ALL SELECT 'due', json_object(
                'from', CASE WHEN OLD.due_at IS NULL THEN NULL ELSE json_object('at', OLD.due_at, 'all_day', json(CASE WHEN OLD.due_all_day THEN 'true' ELSE 'false' END), 'tz', OLD.due_tz, 'floating', json(CASE WHEN OLD.due_floating THEN 'true' ELSE 'false' END)) END,
                'to', CASE WHEN NEW.due_at IS NULL THEN NULL ELSE json_object('at', NEW.due_at, 'all_day', json(CASE WHEN NEW.due_all_day THEN 'true' ELSE 'false' END), 'tz', NEW.due_tz, 'floating', json(CASE WHEN NEW.due_floating THEN 'true' ELSE 'false' END)) END)
            WHERE OLD.due_at IS NOT NEW.due_at OR OLD.due_all_day IS NOT NEW.due_all_day OR OLD.due_tz IS NOT NEW.due_tz OR OLD.due_floating IS NOT NEW.due_floating
        UNION ALL SELECT 'recurrence', json_object(
                'from', CASE WHEN OLD.recurrence_rule IS NULL THEN NULL ELSE json_object('rule', OLD.recurrence_rule, 'from', COALESCE(OLD.recurrence_from, 'due')) END,
                'to', CASE WHEN NEW.recurrence_rule IS NULL THEN NULL ELSE json_object('rule', NEW.recurrence_rule, 'from', COALESCE(NEW.recurrence_from, 'due')) END)
            WHERE OLD.recurrence_rule IS NOT NEW.recurrence_rule OR OLD.recurrence_from IS NOT NEW.recurrence_from
        UNION ALL SELECT 'reminders', json_object('from', json(OLD.reminders), 'to', json(NEW.reminders)) WHERE OLD.reminders IS NOT NEW.reminders
        UNION ALL SELECT 'tags', json_object('from', json(OLD.tags), 'to', json(NEW.tags)) WHERE OLD.tags IS NOT NEW.tags
        UNION ALL SELECT 'list_id', json_object('from', OLD.list_id, 'to', NEW.list_id) WHERE OLD.list_id IS NOT NEW.list_id
        UNION ALL SELECT 'parent_id', json_object('from', OLD.parent_id, 'to', NEW.parent_id) WHERE OLD.parent_id IS NOT NEW.parent_id
        UNION ALL SELECT 'position', json_object('from', OLD.position, 'to', NEW.position) WHERE OLD.position IS NOT NEW.position
    ) WHERE true
    ON CONFLICT (task_id, version) DO UPDATE SET fields = json_patch(fields, excluded.fields);
    DELETE FROM task_revisions WHERE task_id = NEW.id AND version <= NEW.version - 50;
END;
--bun:split
CREATE TRIGGER tasks_revision_create AFTER INSERT ON tasks
BEGIN
    INSERT INTO task_revisions (task_id, version, user_id, by_user, fields, at)
    SELECT NEW.id, NEW.version, NEW.user_id, COALESCE(NEW.updated_by, NEW.user_id), json_group_object(k, json(v)), NEW.updated_at FROM (
        SELECT 'title' AS k, json_object('from', NULL, 'to', NEW.title) AS v
        UNION ALL SELECT 'completed', json_object('from', NULL, 'to', json(CASE WHEN NEW.completed THEN 'true' ELSE 'false' END))
        UNION ALL SELECT 'priority', json_object('from', NULL, 'to', NEW.priority)
        UNION ALL SELECT 'description', json_object('from', NULL, 'to', NEW.description) WHERE NEW.description IS NOT NULL
        UNION ALL SELECT 'due', json_object('from', NULL, 'to', json_object('at', NEW.due_at, 'all_day', json(CASE WHEN NEW.due_all_day THEN 'true' ELSE 'false' END), 'tz', NEW.due_tz, 'floating', json(CASE WHEN NEW.due_floating THEN 'true' ELSE 'false' END)))
            WHERE NEW.due_at IS NOT NULL
        UNION ALL SELECT 'recurrence', json_object('from', NULL, 'to', json_object('rule', NEW.recurrence_rule, 'from', COALESCE(NEW.recurrence_from, 'due')))
            WHERE NEW.recurrence_rule IS NOT NULL
        UNION ALL SELECT 'reminders', json_object('from', NULL, 'to', json(NEW.reminders)) WHERE NEW.reminders IS NOT NULL AND NEW.reminders <> '[]'
        UNION ALL SELECT 'tags', json_object('from', NULL, 'to', json(NEW.tags)) WHERE NEW.tags IS NOT NULL AND NEW.tags <> '[]'
        UNION ALL SELECT 'list_id', json_object('from', NULL, 'to', NEW.list_id) WHERE NEW.list_id IS NOT NULL
        UNION ALL SELECT 'parent_id', json_object('from', NULL, 'to', NEW.parent_id) WHERE NEW.parent_id IS NOT NULL
    );
END;
