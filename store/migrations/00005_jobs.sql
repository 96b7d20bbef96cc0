-- Background jobs against the partner API and their items, one row per unit
-- of work (a customer to refresh, a write to apply). An item records its
-- intent ("sent") in a commit before the call and its outcome after, so a job
-- resumed after a restart never repeats a finished write. See jobs.go.

-- +goose Up
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL CHECK (kind <> ''),
    -- No ON DELETE: a job is a record of what someone did, so the user who
    -- started it cannot vanish from under it.
    owner_id         INTEGER NOT NULL REFERENCES users (id),
    title            TEXT    NOT NULL DEFAULT '',
    params           TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    total            INTEGER NOT NULL DEFAULT 0,
    -- done, failed and unknown are kept equal to the counts of job_items in
    -- those statuses by every store method that changes an item.
    done             INTEGER NOT NULL DEFAULT 0,
    failed           INTEGER NOT NULL DEFAULT 0,
    unknown          INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    error            TEXT    NOT NULL DEFAULT '',
    created_at       TEXT    NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    updated_at       TEXT    NOT NULL
);

CREATE INDEX jobs_status ON jobs (status, created_at, id);
CREATE INDEX jobs_owner ON jobs (owner_id, created_at, id);

CREATE TABLE job_items (
    job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    key        TEXT    NOT NULL DEFAULT '',
    payload    TEXT    NOT NULL DEFAULT '',
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'ok', 'failed', 'unknown', 'skipped')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    code       TEXT    NOT NULL DEFAULT '',
    request_id TEXT    NOT NULL DEFAULT '',
    result     TEXT    NOT NULL DEFAULT '',
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

-- The engine's "next pending items" and "items to reconcile" queries and the
-- counters' COUNTs all select by job and status, in seq order.
CREATE INDEX job_items_status ON job_items (job_id, status, seq);

-- +goose Down
DROP TABLE job_items;
DROP TABLE jobs;
