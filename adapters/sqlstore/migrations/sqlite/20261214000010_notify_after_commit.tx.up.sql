-- Issue 16: on PostgreSQL, writers stop notifying in their transactions and
-- change_heads gets the stamp column SQLite's heads have had from the start
-- (20261208000001), read after each commit by the publisher. Nothing
-- changes here: this migration keeps the two dialects' versions in step.
SELECT 1;
