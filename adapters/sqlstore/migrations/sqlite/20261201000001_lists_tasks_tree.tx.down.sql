DROP TRIGGER tasks_list_live;
--bun:split
DROP INDEX tasks_list_idx;
--bun:split
DROP INDEX tasks_parent_idx;
--bun:split
DROP INDEX tasks_scope_key;
--bun:split
ALTER TABLE tasks DROP COLUMN trashed_with;
--bun:split
ALTER TABLE tasks DROP COLUMN sort_key;
--bun:split
ALTER TABLE tasks DROP COLUMN position;
--bun:split
ALTER TABLE tasks DROP COLUMN parent_id;
--bun:split
ALTER TABLE tasks DROP COLUMN list_id;
--bun:split
DROP TABLE lists;
