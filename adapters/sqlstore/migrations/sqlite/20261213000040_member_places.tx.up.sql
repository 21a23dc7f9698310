-- See the PostgreSQL migration of the same name. sort_key is VIRTUAL
-- (ALTER TABLE cannot add a STORED column), printf('z%019d', list_id)
-- being position.Implicit.
ALTER TABLE list_members ADD COLUMN position TEXT NULL
    CONSTRAINT list_members_position_key CHECK (length(position) BETWEEN 1 AND 64 AND position NOT GLOB '*[^0-9A-Za-z]*');
--bun:split
ALTER TABLE list_members ADD COLUMN sort_key TEXT GENERATED ALWAYS AS (coalesce(position, printf('z%019d', list_id))) VIRTUAL;
--bun:split
DROP TRIGGER list_members_changes_update;
--bun:split
CREATE TRIGGER list_members_changes_update AFTER UPDATE ON list_members
WHEN OLD.role <> NEW.role OR OLD.position IS NOT NEW.position
BEGIN
    INSERT INTO change_apply (user_id, entity, id, purged_at) VALUES (NEW.user_id, 'list', NEW.list_id, NULL);
END;
