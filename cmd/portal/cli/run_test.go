package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"resellerportal/internal/runtest"
	"resellerportal/partnerapi"
)

func TestHelpListsCommands(t *testing.T) {
	var out bytes.Buffer
	if err := Run(t.Context(), []string{"--help"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "sandbox") {
		t.Fatalf("help does not list the sandbox command:\n%s", out.String())
	}
}

func TestBadCommandLines(t *testing.T) {
	cases := [][]string{
		{"nonsense"},
		{"sandbox", "--customers", "0"},
		{"sandbox", "--customers", "50001"},
		{"sandbox", "--rate-scale", "-1"},
		{"sandbox", "--no-such-flag"},
		{"sandbox", "extra"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if err := Run(t.Context(), args, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
				t.Fatalf("run %v succeeded", args)
			}
		})
	}
}

// TestSandboxCommandServes starts `portal sandbox` on a free port, reads the
// endpoint it prints, and calls the API there with a printed credential.
func TestSandboxCommandServes(t *testing.T) {
	start := time.Now()
	cmd := runtest.Start(t, Run, []string{"sandbox", "--addr", "127.0.0.1:0", "--seed", "5"}, noEnv, "endpoint: ")
	endpoint := cmd.Ready
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(endpoint + "/sandbox/credentials")
	if err != nil {
		t.Fatal(err)
	}
	var creds []map[string]any
	err = json.NewDecoder(resp.Body).Decode(&creds)
	resp.Body.Close()
	if err != nil || len(creds) == 0 {
		t.Fatalf("credentials: %v %v", creds, err)
	}
	for _, field := range []string{"Role", "Uin", "Name", "SecretId", "SecretKey"} {
		if _, ok := creds[0][field]; !ok || len(creds[0]) != 5 {
			t.Fatalf("credential %v: want exactly Role, Uin, Name, SecretId, SecretKey", creds[0])
		}
	}
	c, err := partnerapi.New(partnerapi.Config{
		Credential: partnerapi.Credential{SecretId: creds[0]["SecretId"].(string), SecretKey: creds[0]["SecretKey"].(string)},
		Endpoint:   strings.TrimPrefix(endpoint, "http://"),
		Scheme:     "http",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryPartnerCredit(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("the sandbox answered %v after starting", time.Since(start))
	if err := cmd.Stop(); err != nil {
		t.Fatalf("the sandbox did not shut down cleanly: %v", err)
	}
}
