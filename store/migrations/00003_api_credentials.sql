-- Partner API credentials. The secret key is AES-GCM ciphertext made by the
-- caller; the store never sees the plaintext.

-- +goose Up
CREATE TABLE api_credentials (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('distributor', 'subagent')),
    subagent_uin      INTEGER NOT NULL DEFAULT 0,
    label             TEXT    NOT NULL DEFAULT '',
    secret_id         TEXT    NOT NULL,
    secret_key_cipher BLOB    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    -- One distributor credential, one per second-level reseller.
    UNIQUE (kind, subagent_uin),
    CHECK ((kind = 'distributor' AND subagent_uin = 0) OR (kind = 'subagent' AND subagent_uin <> 0))
);

-- +goose Down
DROP TABLE api_credentials;
