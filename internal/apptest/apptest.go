// Package apptest starts a whole portal on its built-in sandbox for a
// test, as serve does, and stops it when the test ends.
package apptest

import (
	"context"
	"sync"
	"testing"

	"resellerportal/auth"
	"resellerportal/cmd/portal/app"
	"resellerportal/partnerapi/sandbox"
)

// Start opens the portal of cfg (a temporary data directory and the test
// password hashing cost unless cfg says otherwise), runs its background
// work until the test ends, and returns it with its sandbox.
func Start(t testing.TB, cfg app.Config) (*app.App, *sandbox.Server) {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.HashCost == (auth.Cost{}) {
		cfg.HashCost = auth.TestCost
	}
	a, err := app.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	sb, err := a.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(runCtx) })
	t.Cleanup(func() { stop(); wg.Wait() })
	return a, sb
}
