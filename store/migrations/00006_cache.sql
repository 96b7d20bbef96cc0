-- A read cache of partner API answers (the customer directory, bill
-- summaries), so pages render from the last refresh instead of waiting on a
-- rate-limited API. Entries are disposable: any of them may be deleted.

-- +goose Up
CREATE TABLE read_cache (
    kind       TEXT NOT NULL CHECK (kind <> ''),
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;

-- For CacheOldest: how stale the oldest entry of a kind is.
CREATE INDEX read_cache_fetched ON read_cache (kind, fetched_at);

-- +goose Down
DROP TABLE read_cache;
