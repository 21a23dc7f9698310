-- Issue 16: on PostgreSQL the publisher's index moves from change_heads.stamp
-- to stamp_block (stamp >> 10), so that the head updates of watched users
-- stay HOT. SQLite's publisher is in-process and reads change_heads.stamp
-- as before: nothing changes here; this migration keeps the two dialects'
-- versions in step.
SELECT 1;
