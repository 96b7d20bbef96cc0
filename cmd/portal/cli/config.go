package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"resellerportal/store"
)

// dataFlag adds --data (default PORTAL_DATA, else ./data) to a flag set.
func dataFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return fs.String("data", envOr(getenv, "PORTAL_DATA", "data"), "data directory (database, keys) [PORTAL_DATA]")
}

func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}

func envBool(getenv func(string) string, key string) bool {
	v, _ := strconv.ParseBool(getenv(key))
	return v
}

func envDuration(getenv func(string) string, key string, fallback time.Duration) (time.Duration, error) {
	v := getenv(key)
	if v == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 30m, not %q", key, v)
	}
	return d, nil
}

// prepareDataDir creates the data directory, readable by its owner only.
func prepareDataDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	return abs, nil
}

func databasePath(dataDir string) string { return filepath.Join(dataDir, "portal.db") }

// openStore creates the data directory if needed and opens its database.
func openStore(ctx context.Context, dir string) (db *store.DB, dataDir string, err error) {
	if dataDir, err = prepareDataDir(dir); err != nil {
		return nil, "", err
	}
	db, err = store.Open(ctx, databasePath(dataDir), store.Options{})
	return db, dataDir, err
}
