-- Who may read shared tasks, across instances (issue 19). Each instance
-- keeps in memory the users with a list_members row (sqlstore.Sharers), so
-- that the task queries of everyone else stay the owner-only statement
-- without asking the database. A membership written on another instance
-- reaches it here: each new row (and a row given another user, which no
-- code does today) notifies channel todo_members with its user id at the
-- commit, and each instance's listening connection adds the user. A
-- removal notifies nothing: a user kept in the set only reads through the
-- shared statement, which checks the membership itself. pg_notify drops a
-- transaction's duplicate notifications, and memberships are written
-- seldom: the commit-time lock of notifying transactions costs nothing
-- that counts here.
CREATE FUNCTION list_members_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('todo_members', NEW.user_id);
    RETURN NULL;
END
$$;
--bun:split
CREATE TRIGGER list_members_notify_insert AFTER INSERT ON list_members
FOR EACH ROW EXECUTE FUNCTION list_members_notify();
--bun:split
CREATE TRIGGER list_members_notify_update AFTER UPDATE OF user_id ON list_members
FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id) EXECUTE FUNCTION list_members_notify();
