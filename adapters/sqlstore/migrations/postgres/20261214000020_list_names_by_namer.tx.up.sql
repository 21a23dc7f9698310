-- Issue 19: a list name is checked against the lists of whoever names the
-- list (domain/list's NameKey), not by a unique index per owner. An admin
-- of a shared list renaming it, or a hand-over to a member, may leave its
-- owner with two live lists of one name: a unique index would refuse that
-- with a 409 that tells the admin the owner's private list names, or the
-- old owner the new one's. The check runs under the namer's scope lock
-- (sqlstore's nameTaken), which every write of a name of their lists
-- takes; this index, no longer unique, serves it.
DROP INDEX lists_user_name_key;
--bun:split
CREATE INDEX lists_user_name_idx ON lists (user_id, name_key) WHERE deleted_at IS NULL;
