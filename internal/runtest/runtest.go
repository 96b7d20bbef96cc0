// Package runtest runs the portal's command line in tests: a long-running
// command (serve, sandbox) in the background, reading what it prints until
// the line that says it is ready.
package runtest

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// RunFunc is the command line's entry point, cli.Run.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Command is a command running in the background.
type Command struct {
	// Lines is what the command printed up to and including the ready line.
	Lines []string
	// Ready is what followed the ready line's prefix, trimmed.
	Ready  string
	Stderr *Buffer

	cancel context.CancelFunc
	done   chan error
}

// Start runs args in the background until the test ends, and returns once
// the command prints a line starting with readyPrefix (the test fails if it
// stops first or takes more than 30 s). The test's cleanup stops it and
// fails the test if it does not stop cleanly.
func Start(t *testing.T, run RunFunc, args []string, getenv func(string) string, readyPrefix string) *Command {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Command{Stderr: &Buffer{}, cancel: cancel, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	go func() {
		err := run(ctx, args, getenv, pw, c.Stderr)
		pw.CloseWithError(err) // nil: the reader sees io.EOF
		c.done <- err
	}()
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("%s returned %v", strings.Join(args, " "), err)
		}
		if t.Failed() {
			t.Logf("%s logged:\n%s", strings.Join(args, " "), c.Stderr.String())
		}
	})
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		ok := false
		for sc.Scan() {
			c.Lines = append(c.Lines, sc.Text())
			if rest, has := strings.CutPrefix(sc.Text(), readyPrefix); has {
				c.Ready, ok = strings.TrimSpace(rest), true
				break
			}
		}
		found <- ok
		io.Copy(io.Discard, pr) // the command must never block on its output
	}()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("%s stopped before printing %q; it printed %q and logged:\n%s", strings.Join(args, " "), readyPrefix, c.Lines, c.Stderr.String())
		}
	case <-timer.C:
		t.Fatalf("%s did not print %q within 30 s; log:\n%s", strings.Join(args, " "), readyPrefix, c.Stderr.String())
	}
	return c
}

// Stop ends the command and returns what it returned; stopping twice
// returns the first answer.
func (c *Command) Stop() error {
	c.cancel()
	err, ok := <-c.done
	if ok {
		close(c.done)
	}
	return err
}

// Buffer collects output written from several goroutines.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
