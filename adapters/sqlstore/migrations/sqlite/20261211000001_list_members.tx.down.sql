DROP TABLE IF EXISTS list_invitations;
--bun:split
DROP TABLE IF EXISTS list_members;
