-- See the PostgreSQL migration of the same name.
ALTER TABLE tasks ADD COLUMN due_tz TEXT NULL CONSTRAINT tasks_due_tz CHECK (due_tz IS NULL OR (due_at IS NOT NULL AND NOT due_all_day));
--bun:split
ALTER TABLE tasks ADD COLUMN due_floating BOOLEAN NOT NULL DEFAULT FALSE CONSTRAINT tasks_due_floating CHECK (NOT (due_floating AND (due_all_day OR due_tz IS NOT NULL OR due_at IS NULL)));
--bun:split
ALTER TABLE tasks ADD COLUMN recurrence_rule TEXT NULL CONSTRAINT tasks_recurrence_rule CHECK (recurrence_rule IS NULL OR due_at IS NOT NULL);
--bun:split
ALTER TABLE tasks ADD COLUMN recurrence_from TEXT NULL CONSTRAINT tasks_recurrence_from CHECK ((recurrence_rule IS NULL) = (recurrence_from IS NULL) AND (recurrence_from IS NULL OR recurrence_from IN ('due', 'completion')));
--bun:split
ALTER TABLE tasks ADD COLUMN recurrence_passed INTEGER NOT NULL DEFAULT 0 CONSTRAINT tasks_recurrence_passed CHECK (recurrence_passed >= 0);
--bun:split
CREATE TABLE task_occurrences (
    id         INTEGER   PRIMARY KEY AUTOINCREMENT,
    task_id    INTEGER   NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id    TEXT      NOT NULL,
    occurrence TEXT      NOT NULL,
    due_at     TIMESTAMP NOT NULL,
    kind       TEXT      NOT NULL CONSTRAINT task_occurrences_kind CHECK (kind IN ('completed', 'skipped')),
    at         TIMESTAMP NOT NULL,
    CONSTRAINT task_occurrences_once UNIQUE (task_id, occurrence)
);
