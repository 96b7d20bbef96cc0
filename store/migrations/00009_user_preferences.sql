-- A user's time zone (an IANA name; '' follows the browser, else UTC), and
-- whether they must choose a new password before anything else (after an
-- admin gave them a one-time password).

-- +goose Up
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));

-- +goose Down
ALTER TABLE users DROP COLUMN must_change_password;
ALTER TABLE users DROP COLUMN time_zone;
