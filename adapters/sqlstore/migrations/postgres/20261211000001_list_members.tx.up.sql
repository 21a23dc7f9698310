-- Shared lists (issue 19). A list's owner is lists.user_id, and the list's
-- tasks stay in the owner's rows (tasks.user_id), so that their scopes,
-- counters and positions are the owner's as before. Everyone else reaches
-- a shared list through a list_members row, whose role (domain/list's
-- Role; never 'owner') says what they may do.
CREATE TABLE list_members (
    list_id    bigint      NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id    text        NOT NULL,
    role       text        NOT NULL CONSTRAINT list_members_role CHECK (role IN ('admin', 'editor', 'completer', 'viewer')),
    invited_by text        NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
--bun:split
-- A member's lists: the access predicate's lookup.
CREATE UNIQUE INDEX list_members_user_idx ON list_members (user_id, list_id);
--bun:split
-- Invitations wait for the invitee, named by email (lower case, as
-- users.email), to sign in and accept or decline; one per list and email.
CREATE TABLE list_invitations (
    id         bigserial   PRIMARY KEY,
    list_id    bigint      NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    email      text        NOT NULL CONSTRAINT list_invitations_email_len CHECK (length(email) BETWEEN 3 AND 320),
    role       text        NOT NULL CONSTRAINT list_invitations_role CHECK (role IN ('admin', 'editor', 'completer', 'viewer')),
    invited_by text        NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT list_invitations_list_email_key UNIQUE (list_id, email)
);
--bun:split
CREATE INDEX list_invitations_email_idx ON list_invitations (email, id);
