-- Partner API keys belong to a target: the built-in sandbox or Tencent
-- Cloud. Which one the portal talks to is an explicit setting
-- (settings.partner_api.target), never a side effect of storing a key, and
-- switching does not mix one target's keys with the other's. Keys stored
-- before this migration were meant for Tencent Cloud: storing one used to
-- switch the portal there.

-- +goose Up
CREATE TABLE api_credentials_new (
    id                INTEGER PRIMARY KEY,
    target            TEXT    NOT NULL CHECK (target IN ('sandbox', 'tencentcloud')),
    kind              TEXT    NOT NULL CHECK (kind IN ('distributor', 'subagent')),
    subagent_uin      INTEGER NOT NULL DEFAULT 0,
    label             TEXT    NOT NULL DEFAULT '',
    secret_id         TEXT    NOT NULL,
    secret_key_cipher BLOB    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    -- One distributor key per target, one per second-level reseller.
    UNIQUE (target, kind, subagent_uin),
    CHECK ((kind = 'distributor' AND subagent_uin = 0) OR (kind = 'subagent' AND subagent_uin <> 0))
);

INSERT INTO api_credentials_new (id, target, kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at)
SELECT id, 'tencentcloud', kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at
FROM api_credentials;

DROP TABLE api_credentials;
ALTER TABLE api_credentials_new RENAME TO api_credentials;

-- +goose Down
CREATE TABLE api_credentials_old (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('distributor', 'subagent')),
    subagent_uin      INTEGER NOT NULL DEFAULT 0,
    label             TEXT    NOT NULL DEFAULT '',
    secret_id         TEXT    NOT NULL,
    secret_key_cipher BLOB    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (kind, subagent_uin),
    CHECK ((kind = 'distributor' AND subagent_uin = 0) OR (kind = 'subagent' AND subagent_uin <> 0))
);
INSERT INTO api_credentials_old (id, kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at)
SELECT id, kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at
FROM api_credentials WHERE target = 'tencentcloud';
DROP TABLE api_credentials;
ALTER TABLE api_credentials_old RENAME TO api_credentials;
