-- Fails while an owner has two live lists of one name (rename one first).
DROP INDEX lists_user_name_idx;
--bun:split
CREATE UNIQUE INDEX lists_user_name_key ON lists (user_id, name_key) WHERE deleted_at IS NULL;
