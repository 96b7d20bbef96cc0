-- The append-only audit log. Each row carries a SHA-256 hash chained to the
-- previous row (see audit.go), and triggers refuse UPDATE and DELETE.

-- +goose Up
CREATE TABLE audit_log (
    -- AUTOINCREMENT so that ids are never reused and sqlite_sequence records
    -- the highest id ever written, which lets VerifyAudit notice rows cut
    -- from the end of the chain.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    time         TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    actor_role   TEXT    NOT NULL,
    on_behalf_of INTEGER NOT NULL DEFAULT 0,
    action       TEXT    NOT NULL,
    target_uin   INTEGER NOT NULL DEFAULT 0,
    params       TEXT    NOT NULL DEFAULT '{}',
    outcome      TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed', 'unknown')),
    code         TEXT    NOT NULL DEFAULT '',
    request_id   TEXT    NOT NULL DEFAULT '',
    client_addr  TEXT    NOT NULL DEFAULT '',
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
);

-- The filters QueryAudit offers, each with time so a range and the newest-first
-- order come from the same index.
CREATE INDEX audit_log_time ON audit_log (time, id);
CREATE INDEX audit_log_actor ON audit_log (actor, time, id);
CREATE INDEX audit_log_action ON audit_log (action, time, id);
CREATE INDEX audit_log_target ON audit_log (target_uin, time, id);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;
-- +goose StatementEnd

-- No Down section on purpose: rolling back must never drop the audit log.
