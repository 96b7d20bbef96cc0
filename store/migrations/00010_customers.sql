-- The partner's customers, one row each: direct customers (reseller_uin 0)
-- and the second-level resellers' indirect customers (reseller_uin the
-- reseller's UIN). The directory refresh fills the table; pages search,
-- filter, sort and page it here instead of asking the rate-limited API.
--
-- Money is exact decimal text as the API answers it ('' when not known, as
-- for indirect customers), each with an integer sort key in millionths
-- (credit_micros = credit x 10^6, exact for up to 6 decimals), so sorting
-- is numeric without a float anywhere. bind_time and fetched_at are UTC
-- text in the store's fixed-width layout (bind_time '' when not known).
-- spend is a month's bill total as the bills refresh of the current month
-- last read it, for spend_month ('' until then).
--
-- Search over name, email and remark is an FTS5 index (SQLite-specific, so
-- it lives behind store.DB.SearchCustomers: another store searches its own
-- way). It is an external-content table over customers. New rows enter it
-- from the store's upsert, a page of them in one statement (an insert
-- trigger, a row at a time, costs three times as much); the triggers below
-- follow changes of the searched text and deletions, which need the old
-- values.

-- +goose Up
CREATE TABLE customers (
    uin                     INTEGER PRIMARY KEY CHECK (uin > 0),
    name                    TEXT    NOT NULL DEFAULT '',
    email                   TEXT    NOT NULL DEFAULT '',
    phone                   TEXT    NOT NULL DEFAULT '',
    country                 TEXT    NOT NULL DEFAULT '',
    remark                  TEXT    NOT NULL DEFAULT '',
    credit                  TEXT    NOT NULL DEFAULT '',
    credit_micros           INTEGER NOT NULL DEFAULT 0,
    remaining_credit        TEXT    NOT NULL DEFAULT '',
    remaining_credit_micros INTEGER NOT NULL DEFAULT 0,
    -- ForceQN state: 2 services suspended by the partner, 0 normal.
    force                   INTEGER NOT NULL DEFAULT 0,
    -- DescribeCustomerInfo: '0' normal, '2' suspended for arrears or credit
    -- taken to 0; '' when not known.
    account_status          TEXT    NOT NULL DEFAULT '',
    auth_status             TEXT    NOT NULL DEFAULT '',
    auth_type               INTEGER NOT NULL DEFAULT -1,
    reseller_uin            INTEGER NOT NULL DEFAULT 0 CHECK (reseller_uin >= 0),
    bind_time               TEXT    NOT NULL DEFAULT '',
    has_expense             INTEGER NOT NULL DEFAULT 0 CHECK (has_expense IN (0, 1)),
    spend_month             TEXT    NOT NULL DEFAULT '',
    spend                   TEXT    NOT NULL DEFAULT '',
    spend_micros            INTEGER NOT NULL DEFAULT 0,
    fetched_at              TEXT    NOT NULL
);

-- Indexes, few on purpose: a directory refresh writes a hundred rows a
-- page at the partner API's pace, and an index in an order unrelated to the
-- UIN (a name, an amount) takes a write of most of its pages per page of
-- new customers. So: the sorts people use most (name, credit, and the
-- binding time, newest first by default, which new customers append to), a
-- reseller's customers (0: the direct ones) and the fetch time (the oldest,
-- the customers a refresh did not see). Each is on its column alone: the
-- rowid (uin), the tie-breaker of every order, ends every index, so a page
-- in either direction, even at a deep offset, walks one index. The other
-- sorts and filters read the table, 50,000 rows in tens of milliseconds.
-- The name sorts by lower(name), which SQLite and Postgres both index.
CREATE INDEX customers_name ON customers (lower(name));
CREATE INDEX customers_credit ON customers (credit_micros);
CREATE INDEX customers_bind_time ON customers (bind_time);
CREATE INDEX customers_reseller ON customers (reseller_uin);
CREATE INDEX customers_fetched_at ON customers (fetched_at);

-- No positions (detail=none) and no column sizes (columnsize=0): searches
-- are prefix words in any column, never phrases or rankings, and the index
-- then costs a refresh little more than the rows themselves.
CREATE VIRTUAL TABLE customers_fts USING fts5 (
    name, email, remark,
    content = 'customers', content_rowid = 'uin',
    tokenize = 'unicode61 remove_diacritics 2',
    detail = none, columnsize = 0
);

-- +goose StatementBegin
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers
BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, name, email, remark) VALUES ('delete', old.uin, old.name, old.email, old.remark);
END;
-- +goose StatementEnd

-- Most refreshes change no searched text: only a change re-indexes the row.
-- +goose StatementBegin
CREATE TRIGGER customers_fts_update AFTER UPDATE OF name, email, remark ON customers
WHEN old.name IS NOT new.name OR old.email IS NOT new.email OR old.remark IS NOT new.remark
BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, name, email, remark) VALUES ('delete', old.uin, old.name, old.email, old.remark);
    INSERT INTO customers_fts (rowid, name, email, remark) VALUES (new.uin, new.name, new.email, new.remark);
END;
-- +goose StatementEnd

-- The read cache's copies of the directory, which this table replaces.
DELETE FROM read_cache WHERE kind = 'customer';

-- +goose Down
DROP TRIGGER customers_fts_update;
DROP TRIGGER customers_fts_delete;
DROP TABLE customers_fts;
DROP TABLE customers;
