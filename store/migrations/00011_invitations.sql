-- Every invitation the portal sent (CreateAndSendClientInvitationMail): the
-- API has no way to list them, and QueryInvitationInfo answers only for
-- tokens it is given, so the portal keeps them. partner_uin is the partner
-- whose key sent it: 0 for the distributor, else the second-level reseller
-- (a subagent login sees only its own). The state (unused, used, expired)
-- is read from the API through the cache, not stored here.

-- +goose Up
CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    token        TEXT    NOT NULL UNIQUE CHECK (token <> ''),
    link         TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('Client', 'SubAgent')),
    partner_uin  INTEGER NOT NULL DEFAULT 0 CHECK (partner_uin >= 0),
    sent_by      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    sent_by_name TEXT    NOT NULL,
    job_id       INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    request_id   TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL
);
-- The page lists a partner's newest first; the form finds the last one to
-- an address (the API sends at most one every three minutes).
CREATE INDEX invitations_partner_created ON invitations (partner_uin, created_at);
CREATE INDEX invitations_partner_email ON invitations (partner_uin, lower(email), created_at);

-- +goose Down
DROP TABLE invitations;
