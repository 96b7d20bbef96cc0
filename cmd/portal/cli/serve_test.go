package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"resellerportal/auth"
	"resellerportal/cmd/portal/app"
	"resellerportal/internal/htmltest"
	"resellerportal/internal/runtest"
)

func noEnv(string) string { return "" }

// client is a cookie-keeping HTTP client with a timeout that does not
// follow redirects.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestFirstRun starts the portal with nothing configured: it creates its
// data directory, private, the first admin with a printed password and the
// sandbox, and that password opens the dashboard.
func TestFirstRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// A user added before the first start is no administrator: the first
	// start must still create admin.
	if err := Run(t.Context(), []string{"user", "add", "--data", dir, "--username", "fiona", "--role", "finance"}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	cmd := runtest.Start(t, Run, []string{"--data", dir, "--addr", "127.0.0.1:0"}, noEnv, "Portal listening on ")
	var password string
	for _, line := range cmd.Lines {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "password:"); ok {
			password = strings.TrimSpace(rest)
		}
	}
	if password == "" {
		t.Fatalf("first run printed no password: %q", cmd.Lines)
	}
	for _, f := range []string{"portal.db", "portal.db-wal", "portal.db-shm", "secret.key", "session.keys"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s not created: %v", f, err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("the data directory has mode %v, want 0700", st.Mode().Perm())
	}

	c := client()
	c.CheckRedirect = nil
	resp, err := c.PostForm(cmd.Ready+"/login", url.Values{"username": {"admin"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	// The printed password is a one-time one: the admin chooses their own first.
	body := readBody(t, resp)
	if resp.Request.URL.Path != "/account" || len(htmltest.ByTestID(t, body, "must-change")) != 1 {
		t.Fatalf("after signing in with the printed password: %s, want the account page asking for a new password", resp.Request.URL.Path)
	}
	resp, err = c.PostForm(cmd.Ready+"/account/password", url.Values{"current": {password}, "new": {"admins-own-pass-2026"}, "confirm": {"admins-own-pass-2026"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(cmd.Ready + "/")
	if err != nil {
		t.Fatal(err)
	}
	body = readBody(t, resp)
	if resp.StatusCode != http.StatusOK || len(htmltest.ByTestID(t, body, "credit-total")) != 1 || len(htmltest.ByTestID(t, body, "sandbox-banner")) != 1 {
		t.Fatalf("after signing in: %d, no dashboard with sandbox figures", resp.StatusCode)
	}
	if err := cmd.Stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// A second start keeps the admin and prints no new password.
	again := runtest.Start(t, Run, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, noEnv, "Portal listening on ")
	for _, line := range again.Lines {
		if strings.Contains(line, "password:") {
			t.Error("a second start printed a new admin password")
		}
	}
}

// TestDataFilesArePrivate: a data directory and files that others may read
// (an old install, a careless copy) are made private at start.
func TestDataFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := Run(t.Context(), []string{"user", "list", "--data", dir}, noEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"portal.db", "secret.key"} {
		if err := os.Chmod(filepath.Join(dir, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logged strings.Builder
	if err := Run(t.Context(), []string{"user", "list", "--data", dir}, noEnv, io.Discard, &logged); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("the data directory kept mode %v", st.Mode().Perm())
	}
	for _, f := range []string{"portal.db", "secret.key"} {
		if st, _ := os.Stat(filepath.Join(dir, f)); st.Mode().Perm() != 0o600 {
			t.Errorf("%s kept mode %v", f, st.Mode().Perm())
		}
	}
	if !strings.Contains(logged.String(), "made a data file private") {
		t.Errorf("fixing the modes was not reported: %q", logged.String())
	}
}

// TestServeStopsWhenServingFails: a server that cannot serve (a bad TLS
// certificate) returns its error and stops everything it started, instead
// of waiting for ever on its background work.
func TestServeStopsWhenServingFails(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0", "--tls-cert", bad, "--tls-key", bad}, noEnv, io.Discard, io.Discard)
	}()
	select {
	case err := <-done:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("serve with a bad certificate returned %v", err)
		}
	case <-ctx.Done():
		t.Fatal("serve with a bad certificate did not return")
	}
}

// TestCommandLineAndWebShareTheUserRules: the command line and the users
// page refuse the same input with the same words, because both call the
// users service.
func TestCommandLineAndWebShareTheUserRules(t *testing.T) {
	dir := t.TempDir()
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	cases := []struct {
		name  string
		args  []string
		form  url.Values
		field string
	}{
		{"user name with a space", []string{"--username", "a b", "--role", "staff"}, url.Values{"username": {"a b"}, "role": {"staff"}}, "username"},
		{"not a reseller", []string{"--username", "rita", "--role", "subagent", "--subagent-uin", "123"},
			url.Values{"username": {"rita"}, "role": {"subagent"}, "subagent_uin": {"123"}}, "subagent_uin"},
		{"expiry in the past", []string{"--username", "pete", "--role", "staff", "--expires", yesterday},
			url.Values{"username": {"pete"}, "role": {"staff"}, "expires": {yesterday}}, "expires"},
	}
	ctx := t.Context()
	a, err := app.Open(ctx, app.Config{DataDir: dir, HashCost: auth.TestCost})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, _, err := a.Users.EnsureFirstAdmin(ctx, "admin-password-2026"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a.Handler())
	defer ts.Close()
	web := client()
	if r, err := web.PostForm(ts.URL+"/login", url.Values{"username": {"admin"}, "password": {"admin-password-2026"}}); err != nil || r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cliErr := Run(ctx, append([]string{"user", "add", "--data", dir}, tc.args...), noEnv, io.Discard, io.Discard)
			if cliErr == nil {
				t.Fatal("the command line accepted it")
			}
			r, err := web.PostForm(ts.URL+"/admin/users/", tc.form)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, r)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("the web form answered %d", r.StatusCode)
			}
			var msg string
			if n := htmltest.ByTestID(t, body, "error-"+tc.field); len(n) == 1 {
				msg = htmltest.Text(n[0])
			}
			if msg == "" || !strings.Contains(cliErr.Error(), msg) {
				t.Fatalf("the web says %q beside %s; the command line says %q", msg, tc.field, cliErr)
			}
		})
	}
}

func readBody(t *testing.T, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
