-- See the PostgreSQL migration of the same name: list names are checked
-- against the namer's own lists by the service (SQLite's one write lock
-- holds the answer), not by a unique index per owner.
DROP INDEX lists_user_name_key;
--bun:split
CREATE INDEX lists_user_name_idx ON lists (user_id, name_key) WHERE deleted_at IS NULL;
