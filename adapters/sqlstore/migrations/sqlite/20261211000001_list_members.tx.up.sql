-- See the PostgreSQL migration of the same name.
CREATE TABLE list_members (
    list_id    INTEGER   NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id    TEXT      NOT NULL,
    role       TEXT      NOT NULL CONSTRAINT list_members_role CHECK (role IN ('admin', 'editor', 'completer', 'viewer')),
    invited_by TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (list_id, user_id)
) WITHOUT ROWID;
--bun:split
CREATE UNIQUE INDEX list_members_user_idx ON list_members (user_id, list_id);
--bun:split
CREATE TABLE list_invitations (
    id         INTEGER   PRIMARY KEY AUTOINCREMENT,
    list_id    INTEGER   NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    email      TEXT      NOT NULL CONSTRAINT list_invitations_email_len CHECK (length(email) BETWEEN 3 AND 320),
    role       TEXT      NOT NULL CONSTRAINT list_invitations_role CHECK (role IN ('admin', 'editor', 'completer', 'viewer')),
    invited_by TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT list_invitations_list_email_key UNIQUE (list_id, email)
);
--bun:split
CREATE INDEX list_invitations_email_idx ON list_invitations (email, id);
