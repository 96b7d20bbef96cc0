-- The low-credit watch. Each customer is watched against thresholds: by
-- default 25 %, 10 % and 0 % of its credit, which a customer's settings
-- may switch off, and the custom ones set for it (a per cent of its
-- credit, or an amount in USD). credit_watch_state holds, for every
-- customer past a threshold, the most severe one it is past and since
-- when, as the last read of its credit found it: the dashboard's and the
-- credit overview's lists are queries on it. A customer that leaves the
-- table takes its settings and its state with it.
--
-- Amounts and per cents are exact decimal text with an integer key in
-- millionths (as the customers table's), so nothing is a float.

-- +goose Up
CREATE TABLE credit_watch_settings (
    uin         INTEGER PRIMARY KEY REFERENCES customers (uin) ON DELETE CASCADE,
    -- 1: the default thresholds do not apply to this customer.
    no_defaults INTEGER NOT NULL DEFAULT 0 CHECK (no_defaults IN (0, 1)),
    updated_by  TEXT    NOT NULL DEFAULT '',
    updated_at  TEXT    NOT NULL
);

CREATE TABLE credit_watch_thresholds (
    uin          INTEGER NOT NULL REFERENCES credit_watch_settings (uin) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('percent', 'amount')),
    value        TEXT    NOT NULL CHECK (value <> ''),
    value_micros INTEGER NOT NULL CHECK (value_micros >= 0),
    PRIMARY KEY (uin, kind, value_micros)
) WITHOUT ROWID;

CREATE TABLE credit_watch_state (
    uin              INTEGER PRIMARY KEY REFERENCES customers (uin) ON DELETE CASCADE,
    -- The most severe threshold passed: its kind and value, and the amount
    -- it stood for at the customer's credit then.
    kind             TEXT    NOT NULL CHECK (kind IN ('percent', 'amount')),
    value            TEXT    NOT NULL,
    bound            TEXT    NOT NULL,
    bound_micros     INTEGER NOT NULL,
    -- The credit read that found it past the threshold.
    credit           TEXT    NOT NULL,
    remaining        TEXT    NOT NULL,
    remaining_micros INTEGER NOT NULL,
    -- The available credit in millionths of the credit, NULL without a
    -- credit line (past an amount threshold only): the lists' order.
    share_micros     INTEGER,
    since            TEXT    NOT NULL,
    -- When the figures were read: an older read never overrides a newer.
    as_of            TEXT    NOT NULL
);
-- A customer's reseller, for a reseller's login's lists, is the
-- customers table's (its reseller index); the state holds only customers
-- past a threshold, few enough to sort without an index of their own.

-- +goose Down
DROP TABLE credit_watch_state;
DROP TABLE credit_watch_thresholds;
DROP TABLE credit_watch_settings;
