-- Priority is kept as its rank (1 low, 2 medium, 3 high), so that ORDER BY
-- priority sorts by rank, not by text. A due date is an instant (due_at) or,
-- with due_all_day, a whole day kept as that date at 00:00 UTC. title_key is
-- the title lower-cased by the service (task.TitleKey), with the C collation:
-- titles sort by it, byte-wise, exactly as the other stores sort them.
ALTER TABLE tasks
    ADD COLUMN priority     smallint    NOT NULL DEFAULT 2 CONSTRAINT tasks_priority_rank CHECK (priority BETWEEN 1 AND 3),
    ADD COLUMN due_at       timestamptz NULL,
    ADD COLUMN due_all_day  boolean     NOT NULL DEFAULT false,
    ADD COLUMN completed_at timestamptz NULL,
    ADD COLUMN title_key    text        COLLATE "C" NOT NULL DEFAULT '',
    ADD CONSTRAINT tasks_due_all_day CHECK (due_at IS NOT NULL OR NOT due_all_day);
--bun:split
-- Tasks completed before completed_at existed get their last change as its
-- best estimate.
UPDATE tasks SET title_key = lower(title), completed_at = CASE WHEN completed THEN updated_at END;
--bun:split
-- One index per sort, each ending in id, the tie-break, so that a keyset
-- page is one index range scan: WHERE user_id = ? AND (key, id) > (?, ?)
-- ORDER BY key, id LIMIT n. (created has tasks_user_created_idx.)
CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at, id);
--bun:split
CREATE INDEX tasks_user_title_idx ON tasks (user_id, title_key, id);
--bun:split
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_at, id);
--bun:split
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority, id);
--bun:split
-- Tags live in their own table, one row per task and tag, with the tag's key
-- (task.TagKey, lower-cased by the service). The (user_id, tag_key, task_id)
-- index serves the tags filter (task ids carrying a key, for one user), and
-- the tags endpoint (counts by key); the primary key makes a tag unique per
-- task and serves loading the tags of a page of tasks. A tags array column
-- would need a GIN index in PostgreSQL and has no index at all in SQLite.
CREATE TABLE task_tags (
    task_id  bigint   NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    tag_key  text     COLLATE "C" NOT NULL,
    user_id  text     NOT NULL,
    position smallint NOT NULL,
    tag      text     NOT NULL CONSTRAINT task_tags_tag_len CHECK (char_length(tag) BETWEEN 1 AND 50),
    PRIMARY KEY (task_id, tag_key)
);
--bun:split
CREATE INDEX task_tags_user_key_idx ON task_tags (user_id, tag_key, task_id);
--bun:split
-- Search (a case-insensitive substring of title or description) uses
-- trigram GIN indexes: pg_trgm ships with PostgreSQL and is a trusted
-- extension (PostgreSQL 13+, Neon), so the database owner may create it.
-- Extensions are per database, not per schema: it goes to public (where an
-- ordinary search_path finds it) unless it exists already, and the index
-- names the operator class with the schema it is in, so a migration in
-- another schema works too. The advisory lock makes migrations of two
-- schemas at once wait for each other rather than both create it.
DO $$
DECLARE
    ext_schema text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('todo-backend pg_trgm', 0));
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
            CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
        ELSE
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        END IF;
    END IF;
    SELECT n.nspname INTO ext_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    EXECUTE format('CREATE INDEX tasks_title_key_trgm_idx ON tasks USING gin (title_key %I.gin_trgm_ops)', ext_schema);
    EXECUTE format('CREATE INDEX tasks_description_trgm_idx ON tasks USING gin (description %I.gin_trgm_ops)', ext_schema);
END
$$;
