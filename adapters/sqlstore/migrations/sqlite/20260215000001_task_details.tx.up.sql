-- See the PostgreSQL migration of the same name for what each column means.
-- title_key is filled with todo_fold, the service's own lower-casing (Go's
-- strings.ToLower), which the store registers on every SQLite connection:
-- SQLite's lower() folds ASCII only.
ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 2 CONSTRAINT tasks_priority_rank CHECK (priority BETWEEN 1 AND 3);
--bun:split
ALTER TABLE tasks ADD COLUMN due_at TIMESTAMP NULL;
--bun:split
ALTER TABLE tasks ADD COLUMN due_all_day BOOLEAN NOT NULL DEFAULT FALSE CONSTRAINT tasks_due_all_day CHECK (due_at IS NOT NULL OR NOT due_all_day);
--bun:split
ALTER TABLE tasks ADD COLUMN completed_at TIMESTAMP NULL;
--bun:split
ALTER TABLE tasks ADD COLUMN title_key TEXT NOT NULL DEFAULT '';
--bun:split
UPDATE tasks SET title_key = todo_fold(title), completed_at = CASE WHEN completed THEN updated_at END;
--bun:split
CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at, id);
--bun:split
CREATE INDEX tasks_user_title_idx ON tasks (user_id, title_key, id);
--bun:split
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_at, id);
--bun:split
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id);
--bun:split
CREATE TABLE task_tags (
    task_id  INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    tag_key  TEXT    NOT NULL,
    user_id  TEXT    NOT NULL,
    position INTEGER NOT NULL,
    tag      TEXT    NOT NULL CONSTRAINT task_tags_tag_len CHECK (length(tag) BETWEEN 1 AND 50),
    PRIMARY KEY (task_id, tag_key)
) WITHOUT ROWID;
--bun:split
CREATE INDEX task_tags_user_key_idx ON task_tags (user_id, tag_key, task_id);
