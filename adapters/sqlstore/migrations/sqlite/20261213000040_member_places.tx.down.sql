DROP TRIGGER list_members_changes_update;
--bun:split
CREATE TRIGGER list_members_changes_update AFTER UPDATE ON list_members WHEN OLD.role <> NEW.role
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at) VALUES (NEW.user_id, 'list', NEW.list_id, NULL);
END;
--bun:split
ALTER TABLE list_members DROP COLUMN sort_key;
--bun:split
ALTER TABLE list_members DROP COLUMN position;
