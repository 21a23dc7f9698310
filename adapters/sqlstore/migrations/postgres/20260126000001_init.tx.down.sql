DROP TABLE IF EXISTS tasks;
--bun:split
DROP TABLE IF EXISTS users;
