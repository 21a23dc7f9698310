DROP TRIGGER list_counts_update;
--bun:split
DROP TRIGGER list_counts_delete;
--bun:split
DROP TRIGGER list_counts_insert;
--bun:split
DROP TABLE list_counts;
