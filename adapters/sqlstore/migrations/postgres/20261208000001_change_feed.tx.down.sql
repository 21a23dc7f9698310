DROP TRIGGER lists_changes_update ON lists;
--bun:split
DROP TRIGGER lists_changes_delete ON lists;
--bun:split
DROP TRIGGER lists_changes_insert ON lists;
--bun:split
DROP TRIGGER tasks_changes_update ON tasks;
--bun:split
DROP TRIGGER tasks_changes_delete ON tasks;
--bun:split
DROP TRIGGER tasks_changes_insert ON tasks;
--bun:split
DROP FUNCTION lists_changes();
--bun:split
DROP FUNCTION tasks_changes();
--bun:split
DROP FUNCTION change_log_apply(text[], text[], bigint[], timestamptz[]);
--bun:split
DROP SEQUENCE change_unordered;
--bun:split
DROP TABLE change_log;
--bun:split
DROP TABLE change_watchers;
--bun:split
DROP TABLE change_heads;
