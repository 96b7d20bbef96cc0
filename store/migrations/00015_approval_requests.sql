-- Four-eyes approval: writes a person asked for that wait for a second
-- person's approval before anything is sent to the partner API. The
-- intents and the job parameters are kept as the jobs engine's JSON, so an
-- approval submits exactly what was asked for. A pending request past
-- expires_at is expired (marked so when it is next read); "used" is an
-- approved request whose writes job has been stored (job_id), which no
-- second approval or replayed form can submit again. outcome is the
-- job's end (done, failed, cancelled), recorded and audited once.

-- +goose Up
CREATE TABLE approval_requests (
    id                INTEGER PRIMARY KEY,
    requested_by      INTEGER NOT NULL REFERENCES users (id),
    requested_by_name TEXT    NOT NULL,
    on_behalf_of      INTEGER NOT NULL DEFAULT 0 CHECK (on_behalf_of >= 0),
    title             TEXT    NOT NULL,
    intents           TEXT    NOT NULL,
    params            TEXT    NOT NULL,
    holds             TEXT    NOT NULL,
    customer_uin      INTEGER NOT NULL DEFAULT 0 CHECK (customer_uin >= 0),
    writes            INTEGER NOT NULL CHECK (writes > 0),
    amount            TEXT    NOT NULL DEFAULT '',
    state             TEXT    NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'approved', 'rejected', 'expired', 'used')),
    decided_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decided_by_name   TEXT    NOT NULL DEFAULT '',
    decided_at        TEXT,
    reason            TEXT    NOT NULL DEFAULT '',
    expires_at        TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    job_id            INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    outcome           TEXT    NOT NULL DEFAULT ''
);
-- The Approvals page lists pending requests first, newest first; a
-- reseller's login sees its own reseller's; the requester its own.
CREATE INDEX approval_requests_state_created ON approval_requests (state, created_at);
CREATE INDEX approval_requests_behalf_created ON approval_requests (on_behalf_of, created_at);
CREATE INDEX approval_requests_requester_created ON approval_requests (requested_by, created_at);

-- +goose Down
DROP TABLE approval_requests;
