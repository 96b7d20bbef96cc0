-- Bill summaries: one row per customer and month with the month's total,
-- and the month's totals by product, by region, by pay mode and by pay
-- mode and transaction type, as the bills refresh reads them
-- (DescribeCustomerBillSummary and DescribeBillSummaryByProduct, ByRegion,
-- ByPayMode). Pages sort and sum them in SQL instead of asking the API,
-- whose bill actions allow one request a second.
--
-- Money is exact decimal text as the API answers it (up to 8 decimals),
-- each total with an integer key in hundred-millionths of a dollar
-- (total_e8 = total x 10^8, exact for the API's 8 decimals), so sums and
-- sorts are exact integer arithmetic in any SQL database: an int64 holds
-- 92 billion dollars. fetched_at is UTC text in the store's fixed-width
-- layout. The breakdown rows of a customer's month are replaced together
-- with its bill_months row.

-- +goose Up
CREATE TABLE bill_months (
    month        TEXT    NOT NULL CHECK (length(month) = 7),
    customer_uin INTEGER NOT NULL CHECK (customer_uin > 0),
    total        TEXT    NOT NULL,
    total_e8     INTEGER NOT NULL,
    request_id   TEXT    NOT NULL DEFAULT '',
    fetched_at   TEXT    NOT NULL,
    PRIMARY KEY (month, customer_uin)
);
-- The overview's default order, biggest spender first, within a month.
CREATE INDEX bill_months_total ON bill_months (month, total_e8);

CREATE TABLE bill_products (
    month            TEXT    NOT NULL,
    customer_uin     INTEGER NOT NULL,
    code             TEXT    NOT NULL,
    name             TEXT    NOT NULL DEFAULT '',
    original_cost    TEXT    NOT NULL DEFAULT '',
    voucher_amount   TEXT    NOT NULL DEFAULT '',
    total            TEXT    NOT NULL,
    total_e8         INTEGER NOT NULL,
    PRIMARY KEY (month, customer_uin, code)
);

CREATE TABLE bill_regions (
    month            TEXT    NOT NULL,
    customer_uin     INTEGER NOT NULL,
    code             TEXT    NOT NULL,
    name             TEXT    NOT NULL DEFAULT '',
    original_cost    TEXT    NOT NULL DEFAULT '',
    voucher_amount   TEXT    NOT NULL DEFAULT '',
    total            TEXT    NOT NULL,
    total_e8         INTEGER NOT NULL,
    PRIMARY KEY (month, customer_uin, code)
);

-- action_type '' is the pay mode's own total; the other rows are its
-- transaction types (DescribeBillSummaryByPayMode's Detail).
CREATE TABLE bill_pay_modes (
    month            TEXT    NOT NULL,
    customer_uin     INTEGER NOT NULL,
    pay_mode         TEXT    NOT NULL,
    action_type      TEXT    NOT NULL DEFAULT '',
    name             TEXT    NOT NULL DEFAULT '',
    original_cost    TEXT    NOT NULL DEFAULT '',
    voucher_amount   TEXT    NOT NULL DEFAULT '',
    total            TEXT    NOT NULL,
    total_e8         INTEGER NOT NULL,
    PRIMARY KEY (month, customer_uin, pay_mode, action_type)
);

-- The read cache's JSON copies of the summaries, which these tables replace.
DELETE FROM read_cache WHERE kind = 'bill.summary';

-- +goose Down
DROP TABLE bill_pay_modes;
DROP TABLE bill_regions;
DROP TABLE bill_products;
DROP TABLE bill_months;
