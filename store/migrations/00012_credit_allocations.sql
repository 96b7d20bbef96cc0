-- +goose Up
-- Every credit allocation asked for through the portal, to a customer or to
-- a second-level reseller's pool: the ledger finance reads, and the record
-- that makes an allocation happen once. A row is written with its job in
-- one transaction; what became of it is its job item's status (joined, not
-- copied, so the two never disagree).
CREATE TABLE credit_allocations (
    id            INTEGER PRIMARY KEY,
    -- The idempotency key: the allocation form's, made when it was shown,
    -- or one per line of a bulk allocation. The same key never allocates
    -- twice.
    idem_key      TEXT    NOT NULL UNIQUE CHECK (idem_key <> ''),
    target        TEXT    NOT NULL CHECK (target IN ('customer', 'pool')),
    uin           INTEGER NOT NULL CHECK (uin > 0),
    -- Exact decimal text; negative takes credit back.
    amount        TEXT    NOT NULL,
    remark        TEXT    NOT NULL DEFAULT '',
    user_id       INTEGER NOT NULL REFERENCES users (id),
    actor         TEXT    NOT NULL,
    actor_role    TEXT    NOT NULL DEFAULT '',
    on_behalf_of  INTEGER NOT NULL DEFAULT 0,
    -- The second-level reseller whose key made the call; 0 the distributor's.
    as_reseller   INTEGER NOT NULL DEFAULT 0,
    -- The target's credit and available credit as the person saw them when
    -- confirming ('' when not read).
    credit_before    TEXT NOT NULL DEFAULT '',
    remaining_before TEXT NOT NULL DEFAULT '',
    -- The approval request holding it for a second person; 0 when none.
    approval      INTEGER NOT NULL DEFAULT 0,
    -- The job and item that carry the call; NULL while it waits for approval.
    job_id        INTEGER REFERENCES jobs (id),
    job_seq       INTEGER,
    created_at    TEXT    NOT NULL
);

CREATE INDEX credit_allocations_created ON credit_allocations (created_at, id);
CREATE INDEX credit_allocations_target ON credit_allocations (target, uin, created_at);
CREATE INDEX credit_allocations_job ON credit_allocations (job_id, job_seq);

-- +goose Down
DROP TABLE credit_allocations;
