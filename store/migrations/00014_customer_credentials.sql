-- A customer's own API key, stored so that the portal can show the
-- customer what only its own credential may read (its bills as it sees
-- them, its own vouchers, its billing quota, its cost explorer). For a
-- customer's key, subagent_uin holds the customer's UIN: one key per
-- customer and target, as one per second-level reseller.

-- +goose Up
CREATE TABLE api_credentials_new (
    id                INTEGER PRIMARY KEY,
    target            TEXT    NOT NULL CHECK (target IN ('sandbox', 'tencentcloud')),
    kind              TEXT    NOT NULL CHECK (kind IN ('distributor', 'subagent', 'customer')),
    subagent_uin      INTEGER NOT NULL DEFAULT 0,
    label             TEXT    NOT NULL DEFAULT '',
    secret_id         TEXT    NOT NULL,
    secret_key_cipher BLOB    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (target, kind, subagent_uin),
    CHECK ((kind = 'distributor' AND subagent_uin = 0) OR (kind IN ('subagent', 'customer') AND subagent_uin <> 0))
);

INSERT INTO api_credentials_new (id, target, kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at)
SELECT id, target, kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at
FROM api_credentials;

DROP TABLE api_credentials;
ALTER TABLE api_credentials_new RENAME TO api_credentials;

-- +goose Down
CREATE TABLE api_credentials_old (
    id                INTEGER PRIMARY KEY,
    target            TEXT    NOT NULL CHECK (target IN ('sandbox', 'tencentcloud')),
    kind              TEXT    NOT NULL CHECK (kind IN ('distributor', 'subagent')),
    subagent_uin      INTEGER NOT NULL DEFAULT 0,
    label             TEXT    NOT NULL DEFAULT '',
    secret_id         TEXT    NOT NULL,
    secret_key_cipher BLOB    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (target, kind, subagent_uin),
    CHECK ((kind = 'distributor' AND subagent_uin = 0) OR (kind = 'subagent' AND subagent_uin <> 0))
);
INSERT INTO api_credentials_old (id, target, kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at)
SELECT id, target, kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at
FROM api_credentials WHERE kind <> 'customer';
DROP TABLE api_credentials;
ALTER TABLE api_credentials_old RENAME TO api_credentials;
