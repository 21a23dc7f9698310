-- See the PostgreSQL migration of the same name for what each part means.
-- sort_key is VIRTUAL (ALTER TABLE cannot add a STORED column): computed
-- when read or indexed, printf('z%019d', id) being position.Implicit. NULLs
-- are distinct in a SQLite UNIQUE index, so the scope key reads the inbox
-- and the top level as 0, which no list or task has.
CREATE TABLE lists (
    id         INTEGER   PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT      NOT NULL,
    name       TEXT      NOT NULL CONSTRAINT lists_name_len CHECK (length(name) BETWEEN 1 AND 100),
    name_key   TEXT      NOT NULL,
    color      TEXT      NULL CONSTRAINT lists_color_hex CHECK (length(color) = 7 AND color GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
    position   TEXT      NULL CONSTRAINT lists_position_key CHECK (length(position) BETWEEN 1 AND 64 AND position NOT GLOB '*[^0-9A-Za-z]*'),
    sort_key   TEXT      GENERATED ALWAYS AS (coalesce(position, printf('z%019d', id))) VIRTUAL,
    version    INTEGER   NOT NULL DEFAULT 1 CONSTRAINT lists_version_positive CHECK (version >= 1),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP NULL
);
--bun:split
CREATE UNIQUE INDEX lists_user_name_key ON lists (user_id, name_key) WHERE deleted_at IS NULL;
--bun:split
CREATE UNIQUE INDEX lists_user_sort_key ON lists (user_id, sort_key);
--bun:split
CREATE INDEX lists_user_trash_idx ON lists (user_id, deleted_at, id) WHERE deleted_at IS NOT NULL;
--bun:split
CREATE INDEX lists_trash_purge_idx ON lists (deleted_at) WHERE deleted_at IS NOT NULL;
--bun:split
ALTER TABLE tasks ADD COLUMN list_id INTEGER NULL CONSTRAINT tasks_list_id_fkey REFERENCES lists (id) ON DELETE CASCADE;
--bun:split
ALTER TABLE tasks ADD COLUMN parent_id INTEGER NULL CONSTRAINT tasks_parent_id_fkey REFERENCES tasks (id) ON DELETE CASCADE
    CONSTRAINT tasks_parent_not_self CHECK (parent_id <> id);
--bun:split
ALTER TABLE tasks ADD COLUMN position TEXT NULL
    CONSTRAINT tasks_position_key CHECK (length(position) BETWEEN 1 AND 64 AND position NOT GLOB '*[^0-9A-Za-z]*');
--bun:split
ALTER TABLE tasks ADD COLUMN sort_key TEXT GENERATED ALWAYS AS (coalesce(position, printf('z%019d', id))) VIRTUAL;
--bun:split
ALTER TABLE tasks ADD COLUMN trashed_with TEXT NULL
    CONSTRAINT tasks_trashed_with_mark CHECK (trashed_with IS NULL OR (trashed_with GLOB 'task:[1-9]*' OR trashed_with GLOB 'list:[1-9]*')
        AND substr(trashed_with, 6) NOT GLOB '*[^0-9]*' AND deleted_at IS NOT NULL);
--bun:split
CREATE UNIQUE INDEX tasks_scope_key ON tasks (user_id, ifnull(list_id, 0), ifnull(parent_id, 0), sort_key);
--bun:split
CREATE INDEX tasks_parent_idx ON tasks (parent_id) WHERE parent_id IS NOT NULL;
--bun:split
CREATE INDEX tasks_list_idx ON tasks (list_id) WHERE list_id IS NOT NULL;
--bun:split
-- The write lock the inserting transaction holds keeps the list as this
-- trigger found it until the insert commits. The refusal is
-- SQLITE_CONSTRAINT_TRIGGER, which only this trigger raises on tasks.
CREATE TRIGGER tasks_list_live BEFORE INSERT ON tasks
WHEN NEW.list_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM lists WHERE id = NEW.list_id AND user_id = NEW.user_id AND deleted_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'tasks_list_live: the list is not a live list of the task''s owner');
END;
