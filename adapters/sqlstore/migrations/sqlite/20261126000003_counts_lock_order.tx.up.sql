-- PostgreSQL only (its counters' trigger function takes row locks in a
-- fixed order now); SQLite writes one statement at a time. Kept so that
-- both dialects have the same versions.
SELECT 1;
