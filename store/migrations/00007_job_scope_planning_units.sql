-- Jobs that plan themselves, one active refresh per scope, progress in what
-- people count, and a cache index for the Jobs page's freshness figures.
--
-- scope: what a refresh covers ('all' for the directory, '2026-01' for a
-- month's bills; '' for jobs that may run side by side, such as writes). The
-- partial unique index lets at most one job per (kind, scope) be queued or
-- running, so two people pressing "refresh" at once share one job.
--
-- planning / plan_cursor: a job created with planning = 1 works out its own
-- items as its first step (counting the directory's pages, listing the
-- customers whose bills to read); items are appended in batches, each with
-- the cursor to resume from, so a restart in the middle of planning neither
-- loses nor repeats a batch.
--
-- units: what a person counts in an item (a directory page holds up to 100
-- customers, a bills item one customer, a write one write). jobs.units is the
-- sum over the job's items and jobs.units_done the sum over its items that
-- finished ok, both kept by the store in the same transaction as the item
-- change, like done/failed/unknown.

-- +goose Up
ALTER TABLE jobs ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN planning INTEGER NOT NULL DEFAULT 0 CHECK (planning IN (0, 1));
ALTER TABLE jobs ADD COLUMN plan_cursor TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN units INTEGER NOT NULL DEFAULT 0 CHECK (units >= 0);
ALTER TABLE jobs ADD COLUMN units_done INTEGER NOT NULL DEFAULT 0 CHECK (units_done >= 0);
ALTER TABLE job_items ADD COLUMN units INTEGER NOT NULL DEFAULT 1 CHECK (units >= 0);

-- Every item so far counted one unit.
UPDATE jobs SET units = total, units_done = done;

CREATE UNIQUE INDEX jobs_active_scope ON jobs (kind, scope)
    WHERE scope <> '' AND status IN ('queued', 'running');

-- Ended jobs whose write outcomes are still unknown, reconciled at start.
CREATE INDEX jobs_unknown ON jobs (status, unknown) WHERE unknown > 0;

-- The count and oldest fetch of a key range (one month's bill summaries)
-- come from this narrow covering index instead of the table's JSON values.
CREATE INDEX read_cache_key_fetched ON read_cache (kind, key, fetched_at);

-- +goose Down
DROP INDEX read_cache_key_fetched;
DROP INDEX jobs_unknown;
DROP INDEX jobs_active_scope;
ALTER TABLE job_items DROP COLUMN units;
ALTER TABLE jobs DROP COLUMN units_done;
ALTER TABLE jobs DROP COLUMN units;
ALTER TABLE jobs DROP COLUMN plan_cursor;
ALTER TABLE jobs DROP COLUMN planning;
ALTER TABLE jobs DROP COLUMN scope;
