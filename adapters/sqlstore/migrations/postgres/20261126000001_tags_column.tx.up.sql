-- tags: the task's tags in its order, as a JSON array of strings, so that
-- reading a task or a page of them is one query on one table (issue 8). The
-- column is added on its own: with a constant default it is a change of the
-- catalog only, and its brief ACCESS EXCLUSIVE lock ends with this
-- migration, before the next one fills it.
ALTER TABLE tasks ADD COLUMN tags text NOT NULL DEFAULT '[]';
