DROP TRIGGER tasks_list_live ON tasks;
--bun:split
DROP FUNCTION tasks_list_live();
--bun:split
DROP INDEX tasks_list_idx;
--bun:split
DROP INDEX tasks_parent_idx;
--bun:split
DROP INDEX tasks_scope_key;
--bun:split
ALTER TABLE tasks
    DROP CONSTRAINT tasks_trashed_with_in_trash,
    DROP CONSTRAINT tasks_parent_not_self,
    DROP COLUMN trashed_with,
    DROP COLUMN sort_key,
    DROP COLUMN position,
    DROP COLUMN parent_id,
    DROP COLUMN list_id;
--bun:split
DROP TABLE lists;
