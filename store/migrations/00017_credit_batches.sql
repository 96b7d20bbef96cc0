-- +goose Up
-- A bulk credit allocation between its preview and its job: the lines as
-- checked (JSON: they are read and written whole, never queried), who made
-- it, and the writes job once confirmed. The idempotency key is the upload
-- form's, so an upload sent twice is one batch.
CREATE TABLE credit_batches (
    id           INTEGER PRIMARY KEY,
    idem_key     TEXT    NOT NULL UNIQUE CHECK (idem_key <> ''),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    actor        TEXT    NOT NULL,
    on_behalf_of INTEGER NOT NULL DEFAULT 0,
    source       TEXT    NOT NULL CHECK (source IN ('file', 'selection')),
    lines        TEXT    NOT NULL,
    job_id       INTEGER REFERENCES jobs (id),
    approval     INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT    NOT NULL
);

CREATE INDEX credit_batches_user ON credit_batches (user_id, created_at);

-- +goose Down
DROP TABLE credit_batches;
