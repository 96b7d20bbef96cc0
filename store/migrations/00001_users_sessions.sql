-- Users and their server-side sessions.
-- Times are UTC text in one fixed-width RFC 3339 layout (see timeLayout), so
-- they compare correctly as text.

-- +goose Up
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT    NOT NULL,
    -- Lower-cased username, kept by the store, so uniqueness and lookups are
    -- case-insensitive beyond ASCII (COLLATE NOCASE folds ASCII only).
    username_key        TEXT    NOT NULL UNIQUE,
    display_name        TEXT    NOT NULL DEFAULT '',
    role                TEXT    NOT NULL CHECK (role IN ('admin', 'staff', 'finance', 'subagent')),
    password_hash       TEXT    NOT NULL DEFAULT '',
    subagent_uin        INTEGER NOT NULL DEFAULT 0,
    expires_at          TEXT,
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    locale              TEXT    NOT NULL DEFAULT '',
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    password_changed_at TEXT    NOT NULL
);

CREATE TABLE sessions (
    -- Hex SHA-256 of the cookie token: a copy of the database must not let
    -- anyone log in.
    id          TEXT    PRIMARY KEY CHECK (length(id) = 64),
    user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    data        BLOB    NOT NULL,
    created_at  TEXT    NOT NULL,
    last_seen   TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    client_addr TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
