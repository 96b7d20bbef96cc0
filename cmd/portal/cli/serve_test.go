package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFirstRun starts the portal with nothing configured: it creates its
// data directory, the first admin with a printed password and the sandbox,
// and that password opens the dashboard.
func TestFirstRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// A user added before the first start is no administrator: the first
	// start must still create admin.
	if err := Run(t.Context(), []string{"user", "add", "--data", dir, "--username", "fiona", "--role", "finance"}, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"--data", dir, "--addr", "127.0.0.1:0"}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	var password, base string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "password:"); ok {
			password = strings.TrimSpace(rest)
		}
		if rest, ok := strings.CutPrefix(line, "Portal listening on "); ok {
			base = rest
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if password == "" || base == "" {
		t.Fatalf("first run printed no password (%q) or no address (%q)", password, base)
	}
	for _, f := range []string{"portal.db", "secret.key", "session.keys"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s not created: %v", f, err)
		}
		if f != "portal.db" && st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(base+"/login", url.Values{"username": {"admin"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `data-testid="credit-total"`) || !strings.Contains(string(body), `data-testid="sandbox-banner"`) {
		t.Fatalf("after signing in: %d, no dashboard with sandbox figures", resp.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// A second start keeps the admin and prints no new password.
	ctx2, cancel2 := context.WithCancel(t.Context())
	pr2, pw2 := io.Pipe()
	done2 := make(chan error, 1)
	go func() {
		done2 <- Run(ctx2, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, func(string) string { return "" }, pw2, io.Discard)
		pw2.Close()
	}()
	sc2 := bufio.NewScanner(pr2)
	for sc2.Scan() {
		if strings.Contains(sc2.Text(), "password:") {
			t.Error("a second start printed a new admin password")
		}
		if strings.HasPrefix(sc2.Text(), "Portal listening on ") {
			break
		}
	}
	go io.Copy(io.Discard, pr2)
	cancel2()
	if err := <-done2; err != nil {
		t.Fatalf("second run: %v", err)
	}
}
