-- The history without the assignee (migration 20261212000010's function).
DO $do$
BEGIN
    EXECUTE format($fn$
        CREATE OR REPLACE FUNCTION %1$I.tasks_revision() RETURNS trigger LANGUAGE plpgsql AS $body$
        DECLARE
            f jsonb := '{}'::jsonb;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                -- The creation (version 1): each content field that has a
                -- value, from null (task.Created). Tags come after, from
                -- task_tags' triggers, as an update at version 1.
                f := jsonb_build_object('title', jsonb_build_object('from', NULL, 'to', NEW.title),
                    'completed', jsonb_build_object('from', NULL, 'to', NEW.completed),
                    'priority', jsonb_build_object('from', NULL, 'to', NEW.priority));
                IF NEW.description IS NOT NULL THEN
                    f := f || jsonb_build_object('description', jsonb_build_object('from', NULL, 'to', NEW.description));
                END IF;
                IF NEW.due_at IS NOT NULL THEN
                    f := f || jsonb_build_object('due', jsonb_build_object('from', NULL, 'to',
                        jsonb_build_object('at', NEW.due_at, 'all_day', NEW.due_all_day, 'tz', NEW.due_tz, 'floating', NEW.due_floating)));
                END IF;
                IF NEW.recurrence_rule IS NOT NULL THEN
                    f := f || jsonb_build_object('recurrence', jsonb_build_object('from', NULL, 'to',
                        jsonb_build_object('rule', NEW.recurrence_rule, 'from', COALESCE(NEW.recurrence_from, 'due'))));
                END IF;
                IF NEW.reminders IS NOT NULL AND NEW.reminders <> '[]' THEN
                    f := f || jsonb_build_object('reminders', jsonb_build_object('from', NULL, 'to', NEW.reminders::jsonb));
                END IF;
                IF NEW.tags IS NOT NULL AND NEW.tags <> '[]' THEN
                    f := f || jsonb_build_object('tags', jsonb_build_object('from', NULL, 'to', NEW.tags::jsonb));
                END IF;
                IF NEW.list_id IS NOT NULL THEN
                    f := f || jsonb_build_object('list_id', jsonb_build_object('from', NULL, 'to', NEW.list_id));
                END IF;
                IF NEW.parent_id IS NOT NULL THEN
                    f := f || jsonb_build_object('parent_id', jsonb_build_object('from', NULL, 'to', NEW.parent_id));
                END IF;
                INSERT INTO %1$I.task_revisions (task_id, version, user_id, by_user, fields, at)
                VALUES (NEW.id, NEW.version, NEW.user_id, COALESCE(NEW.updated_by, NEW.user_id), f, NEW.updated_at);
                RETURN NULL;
            END IF;
            IF OLD.title IS DISTINCT FROM NEW.title THEN
                f := f || jsonb_build_object('title', jsonb_build_object('from', OLD.title, 'to', NEW.title));
            END IF;
            IF OLD.description IS DISTINCT FROM NEW.description THEN
                f := f || jsonb_build_object('description', jsonb_build_object('from', OLD.description, 'to', NEW.description));
            END IF;
            IF OLD.completed IS DISTINCT FROM NEW.completed THEN
                f := f || jsonb_build_object('completed', jsonb_build_object('from', OLD.completed, 'to', NEW.completed));
            END IF;
            IF OLD.priority IS DISTINCT FROM NEW.priority THEN
                f := f || jsonb_build_object('priority', jsonb_build_object('from', OLD.priority, 'to', NEW.priority));
            END IF;
            IF (OLD.due_at, OLD.due_all_day, OLD.due_tz, OLD.due_floating) IS DISTINCT FROM (NEW.due_at, NEW.due_all_day, NEW.due_tz, NEW.due_floating) THEN
                f := f || jsonb_build_object('due', jsonb_build_object(
                    'from', CASE WHEN OLD.due_at IS NULL THEN NULL ELSE jsonb_build_object('at', OLD.due_at, 'all_day', OLD.due_all_day, 'tz', OLD.due_tz, 'floating', OLD.due_floating) END,
                    'to', CASE WHEN NEW.due_at IS NULL THEN NULL ELSE jsonb_build_object('at', NEW.due_at, 'all_day', NEW.due_all_day, 'tz', NEW.due_tz, 'floating', NEW.due_floating) END));
            END IF;
            IF (OLD.recurrence_rule, OLD.recurrence_from) IS DISTINCT FROM (NEW.recurrence_rule, NEW.recurrence_from) THEN
                f := f || jsonb_build_object('recurrence', jsonb_build_object(
                    'from', CASE WHEN OLD.recurrence_rule IS NULL THEN NULL ELSE jsonb_build_object('rule', OLD.recurrence_rule, 'from', COALESCE(OLD.recurrence_from, 'due')) END,
                    'to', CASE WHEN NEW.recurrence_rule IS NULL THEN NULL ELSE jsonb_build_object('rule', NEW.recurrence_rule, 'from', COALESCE(NEW.recurrence_from, 'due')) END));
            END IF;
            IF OLD.reminders IS DISTINCT FROM NEW.reminders THEN
                f := f || jsonb_build_object('reminders', jsonb_build_object('from', OLD.reminders::jsonb, 'to', NEW.reminders::jsonb));
            END IF;
            IF OLD.tags IS DISTINCT FROM NEW.tags THEN
                f := f || jsonb_build_object('tags', jsonb_build_object('from', OLD.tags::jsonb, 'to', NEW.tags::jsonb));
            END IF;
            IF OLD.list_id IS DISTINCT FROM NEW.list_id THEN
                f := f || jsonb_build_object('list_id', jsonb_build_object('from', OLD.list_id, 'to', NEW.list_id));
            END IF;
            IF OLD.parent_id IS DISTINCT FROM NEW.parent_id THEN
                f := f || jsonb_build_object('parent_id', jsonb_build_object('from', OLD.parent_id, 'to', NEW.parent_id));
            END IF;
            IF OLD.position IS DISTINCT FROM NEW.position THEN
                f := f || jsonb_build_object('position', jsonb_build_object('from', OLD.position, 'to', NEW.position));
            END IF;
            IF f = '{}'::jsonb THEN
                RETURN NULL;
            END IF;
            INSERT INTO %1$I.task_revisions AS r (task_id, version, user_id, by_user, fields, at)
            VALUES (NEW.id, NEW.version, NEW.user_id, COALESCE(NEW.updated_by, NEW.user_id), f, NEW.updated_at)
            ON CONFLICT (task_id, version) DO UPDATE SET fields = r.fields || excluded.fields;
            DELETE FROM %1$I.task_revisions WHERE task_id = NEW.id AND version <= NEW.version - 50;
            RETURN NULL;
        END
        $body$
    $fn$, current_schema());
END
$do$;
