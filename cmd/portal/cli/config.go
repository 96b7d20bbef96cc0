package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"resellerportal/cmd/portal/app"
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

// openApp builds the portal for a command-line command: the same services
// `serve` uses, without listening.
func openApp(ctx context.Context, dir string, getenv func(string) string, stderr io.Writer) (*app.App, error) {
	return app.Open(ctx, app.Config{DataDir: dir, Getenv: getenv, SandboxAsServed: true,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
}
