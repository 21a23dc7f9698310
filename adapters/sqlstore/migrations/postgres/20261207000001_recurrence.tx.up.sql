-- Issue 18, the time model and recurrence. A due is a whole day
-- (due_all_day), a floating local date-time (due_floating: due_at holds its
-- wall-clock reading labelled UTC, so that it is compared with the user's
-- clock read the same way), or an instant, with the IANA zone it lives in
-- (due_tz) or none. recurrence_rule is the canonical RRULE of a repeating
-- task (NULL: it does not repeat), recurrence_from what its next occurrence
-- counts from, recurrence_passed how many occurrences it passed since the
-- rule was set (its COUNT counts them).
ALTER TABLE tasks
    ADD COLUMN due_tz text NULL,
    ADD COLUMN due_floating boolean NOT NULL DEFAULT false,
    ADD COLUMN recurrence_rule text NULL,
    ADD COLUMN recurrence_from text NULL,
    ADD COLUMN recurrence_passed integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT tasks_due_kind CHECK (NOT (due_floating AND (due_all_day OR due_tz IS NOT NULL OR due_at IS NULL))
        AND (due_tz IS NULL OR (due_at IS NOT NULL AND NOT due_all_day))),
    ADD CONSTRAINT tasks_recurrence CHECK ((recurrence_rule IS NULL) = (recurrence_from IS NULL)
        AND (recurrence_rule IS NULL OR due_at IS NOT NULL)
        AND recurrence_from IN ('due', 'completion') AND recurrence_passed >= 0);
--bun:split
-- The history of a repeating task: each occurrence passed, completed or
-- skipped, once (the unique key is what makes a replayed completion of an
-- occurrence change nothing). occurrence is the due as the API shows it.
CREATE TABLE task_occurrences (
    id         bigserial   PRIMARY KEY,
    task_id    bigint      NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id    text        NOT NULL,
    occurrence text        NOT NULL,
    due_at     timestamptz NOT NULL,
    kind       text        NOT NULL CONSTRAINT task_occurrences_kind CHECK (kind IN ('completed', 'skipped')),
    at         timestamptz NOT NULL,
    CONSTRAINT task_occurrences_once UNIQUE (task_id, occurrence)
);
