package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"resellerportal/partnerapi"
)

// rigScale speeds up the documented limits on both sides of a rig, so that
// tests never wait on the rate limits.
const rigScale = 1000

// rigStart is the World's time when a rig starts.
var rigStart = time.Date(2025, 7, 15, 2, 30, 0, 0, time.UTC)

// apiRig is a sandbox served over loopback HTTP and called through the
// partner API client, as the portal calls it. The World runs on a fake
// clock the test moves; signatures and rate limits use the real time, which
// the client signs with.
type apiRig struct {
	srv      *Server
	ts       *httptest.Server
	clock    *fakeClock
	logs     *lockedBuffer
	limiters *partnerapi.Limiters
	http     *http.Client // for the /sandbox controls
}

// newAPIRig starts a sandbox with opts; Seed, Customers, RateScale, the
// clocks and the logger are the rig's unless opts sets Seed or Customers.
func newAPIRig(t *testing.T, opts Options) *apiRig {
	t.Helper()
	r := &apiRig{
		clock:    &fakeClock{t: rigStart},
		logs:     &lockedBuffer{},
		limiters: partnerapi.NewLimiters(rigScale),
		http:     &http.Client{Timeout: 10 * time.Second},
	}
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	if opts.Customers == 0 {
		opts.Customers = 20
	}
	opts.RateScale = rigScale
	opts.Now = r.clock.Now
	opts.RequestClock = time.Now
	opts.Logger = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.srv = srv
	r.ts = httptest.NewServer(srv)
	t.Cleanup(r.ts.Close)
	return r
}

// client returns a partner API client for a credential. It tries each call
// once, so that a test sees exactly the answer the sandbox gave.
func (r *apiRig) client(t *testing.T, cred partnerapi.Credential) *partnerapi.Client {
	t.Helper()
	c, err := partnerapi.New(partnerapi.Config{
		Credential:      cred,
		Endpoint:        r.ts.Listener.Addr().String(),
		Scheme:          "http",
		Limiters:        r.limiters,
		MaxReadAttempts: 1,
		AttemptTimeout:  10 * time.Second,
	})
	if err != nil {
		t.Fatalf("partnerapi.New: %v", err)
	}
	return c
}

func (r *apiRig) distributor(t *testing.T) *partnerapi.Client {
	return r.client(t, r.srv.DemoDistributor().Credential)
}

func (r *apiRig) subAgent(t *testing.T) *partnerapi.Client {
	return r.client(t, r.srv.DemoSubAgent().Credential)
}

// control sends a request to a /sandbox control endpoint with body (JSON,
// or nothing when nil) and decodes a JSON answer into out when out is not
// nil. It returns the HTTP status.
func (r *apiRig) control(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, r.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: answer %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// outbox reads GET /sandbox/outbox.
func (r *apiRig) outbox(t *testing.T) []OutboxMessage {
	t.Helper()
	var msgs []OutboxMessage
	if st := r.control(t, http.MethodGet, "/sandbox/outbox", nil, &msgs); st != http.StatusOK {
		t.Fatalf("GET /sandbox/outbox: status %d", st)
	}
	return msgs
}

// lastMessage returns the newest outbox message to an address or phone.
func (r *apiRig) lastMessage(t *testing.T, to string) OutboxMessage {
	t.Helper()
	msgs := r.outbox(t)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == to {
			return msgs[i]
		}
	}
	t.Fatalf("no message to %s in the outbox", to)
	return OutboxMessage{}
}

// apiCode returns the API error code of err, "" for nil, and fails the test
// for an error that is not an answer of the API.
func apiCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var apiErr *partnerapi.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("not an API answer: %v", err)
	}
	return apiErr.Code
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// contains reports whether the log holds every string of want.
func (b *lockedBuffer) contains(want ...string) bool {
	s := b.String()
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
