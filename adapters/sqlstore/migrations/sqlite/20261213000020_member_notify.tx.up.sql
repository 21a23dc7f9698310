-- PostgreSQL only (its instances tell each other of new memberships);
-- SQLite has one process, whose MemberRepository tells its Sharers. Kept so
-- that both dialects have the same versions.
SELECT 1;
