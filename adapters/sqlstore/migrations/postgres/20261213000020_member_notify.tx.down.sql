DROP TRIGGER list_members_notify_update ON list_members;
--bun:split
DROP TRIGGER list_members_notify_insert ON list_members;
--bun:split
DROP FUNCTION list_members_notify();
