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
DROP TABLE change_log;
--bun:split
DROP TABLE change_heads;
