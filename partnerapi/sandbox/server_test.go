package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"resellerportal/partnerapi"
)

// testNow is the fake clock's starting time in tests that do not use synctest.
var testNow = time.Date(2025, 7, 15, 10, 30, 0, 0, time.UTC)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newTestServer builds a small sandbox; a nil clock means time.Now.
func newTestServer(t testing.TB, clock func() time.Time, scale float64) *Server {
	t.Helper()
	s, err := New(Options{Seed: 7, Customers: 20, RateScale: scale, Now: clock})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// credentialFor returns the n-th credential of a role ("distributor",
// "subagent", "customer").
func credentialFor(t testing.TB, s *Server, role string, n int) Credential {
	t.Helper()
	for _, c := range s.Credentials() {
		if c.Role == role {
			if n == 0 {
				return c
			}
			n--
		}
	}
	t.Fatalf("no %s credential number %d in the world", role, n)
	return Credential{}
}

// signedCall describes one request signed by the test's own implementation
// of TC3-HMAC-SHA256, written from the published algorithm.
type signedCall struct {
	Method    string // POST when empty
	Host      string // intlpartnersmgt.tencentcloudapi.com when empty
	Action    string
	Version   string // 2022-09-28 when empty
	Body      string // POST body; "{}" when empty
	Query     string // raw query for GET
	SecretId  string
	SecretKey string
	Time      time.Time
	Service   string // credential scope service; intlpartnersmgt when empty
	ScopeDate string // credential scope date; the timestamp's UTC date when empty
}

// request builds and signs the HTTP request.
func (c signedCall) request() *http.Request {
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	host := c.Host
	if host == "" {
		host = "intlpartnersmgt.tencentcloudapi.com"
	}
	version := c.Version
	if version == "" {
		version = "2022-09-28"
	}
	service := c.Service
	if service == "" {
		service = "intlpartnersmgt"
	}
	body := c.Body
	contentType := "application/json"
	if method == http.MethodGet {
		body = ""
		contentType = "application/x-www-form-urlencoded"
	} else if body == "" {
		body = "{}"
	}
	ts := c.Time.Unix()
	date := c.ScopeDate
	if date == "" {
		date = time.Unix(ts, 0).UTC().Format("2006-01-02")
	}
	// Step 1: canonical request.
	payloadHash := sha256.Sum256([]byte(body))
	canonical := method + "\n/\n" + c.Query + "\n" +
		"content-type:" + contentType + "\nhost:" + host + "\n\n" +
		"content-type;host\n" + hex.EncodeToString(payloadHash[:])
	// Step 2: string to sign.
	canonicalHash := sha256.Sum256([]byte(canonical))
	scope := date + "/" + service + "/tc3_request"
	stringToSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + hex.EncodeToString(canonicalHash[:])
	// Step 3: signature.
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	k := mac([]byte("TC3"+c.SecretKey), date)
	k = mac(k, service)
	k = mac(k, "tc3_request")
	sig := hex.EncodeToString(mac(k, stringToSign))

	target := "/"
	if c.Query != "" {
		target += "?" + c.Query
	}
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = host
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("X-TC-Action", c.Action)
	r.Header.Set("X-TC-Version", version)
	r.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	r.Header.Set("Authorization", fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host, Signature=%s", c.SecretId, scope, sig))
	return r
}

// apiAnswer is the decoded envelope of an API answer.
type apiAnswer struct {
	Response map[string]json.RawMessage
}

func (a apiAnswer) code() string {
	raw, ok := a.Response["Error"]
	if !ok {
		return ""
	}
	var e struct{ Code string }
	_ = json.Unmarshal(raw, &e)
	return e.Code
}

func (a apiAnswer) message() string {
	var e struct{ Message string }
	_ = json.Unmarshal(a.Response["Error"], &e)
	return e.Message
}

func (a apiAnswer) requestID() string {
	var id string
	_ = json.Unmarshal(a.Response["RequestId"], &id)
	return id
}

// serve runs r through the server and decodes the answer, checking the
// envelope every answer must have.
func serve(t testing.TB, h http.Handler, r *http.Request) apiAnswer {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return decodeAnswer(t, rec.Code, rec.Header(), rec.Body.Bytes())
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func decodeAnswer(t testing.TB, status int, header http.Header, body []byte) apiAnswer {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", status, body)
	}
	if ct := header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var a apiAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, body)
	}
	if a.Response == nil {
		t.Fatalf("answer has no Response: %s", body)
	}
	if id := a.requestID(); !uuidV4.MatchString(id) {
		t.Errorf("RequestId %q is not a UUID v4", id)
	}
	return a
}

func TestSignatureChecks(t *testing.T) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(t, clock.Now, 1000)
	dist := credentialFor(t, s, "distributor", 0)
	sub := credentialFor(t, s, "subagent", 0)
	valid := signedCall{Action: "QueryPartnerCredit", SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}

	tests := []struct {
		name   string
		call   signedCall
		tamper func(r *http.Request)
		want   string // error code, "" for success
	}{
		{name: "valid", call: valid},
		{name: "valid GET", call: func() signedCall { c := valid; c.Method = http.MethodGet; return c }()},
		{name: "timestamp 299s old", call: func() signedCall { c := valid; c.Time = testNow.Add(-299 * time.Second); return c }()},
		{name: "wrong key", call: func() signedCall { c := valid; c.SecretKey = "wrong" + c.SecretKey; return c }(), want: "AuthFailure.SignatureFailure"},
		{name: "unknown id", call: func() signedCall { c := valid; c.SecretId = "AKID" + strings.Repeat("x", 32); return c }(), want: "AuthFailure.SecretIdNotFound"},
		{name: "malformed id", call: func() signedCall { c := valid; c.SecretId = "not-a-key"; return c }(), want: "AuthFailure.InvalidSecretId"},
		{name: "short id", call: func() signedCall { c := valid; c.SecretId = "AKID123"; return c }(), want: "AuthFailure.InvalidSecretId"},
		{name: "timestamp 301s old", call: func() signedCall { c := valid; c.Time = testNow.Add(-301 * time.Second); return c }(), want: "AuthFailure.SignatureExpire"},
		{name: "timestamp 301s ahead", call: func() signedCall { c := valid; c.Time = testNow.Add(301 * time.Second); return c }(), want: "AuthFailure.SignatureExpire"},
		{name: "wrong service in scope", call: func() signedCall { c := valid; c.Service = "cvm"; return c }(), want: "AuthFailure.SignatureFailure"},
		{name: "scope date not the timestamp's", call: func() signedCall { c := valid; c.ScopeDate = "2025-07-14"; return c }(), want: "AuthFailure.SignatureFailure"},
		{name: "body tampered after signing", call: valid, tamper: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{ }`))
			r.ContentLength = 3
		}, want: "AuthFailure.SignatureFailure"},
		{name: "host changed after signing", call: valid, tamper: func(r *http.Request) { r.Host = "evil.example.com" }, want: "AuthFailure.SignatureFailure"},
		{name: "query changed after signing", call: func() signedCall { c := valid; c.Method = http.MethodGet; return c }(), tamper: func(r *http.Request) {
			r.URL.RawQuery = "X=1"
		}, want: "AuthFailure.SignatureFailure"},
		{name: "signature not hex", call: valid, tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, "Signature=")]+"Signature=zz")
		}, want: "AuthFailure.SignatureFailure"},
		{name: "no Authorization", call: valid, tamper: func(r *http.Request) { r.Header.Del("Authorization") }, want: "AuthFailure"},
		{name: "other algorithm", call: valid, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "TC3-HMAC-SHA256", "HMAC-SHA1", 1))
		}, want: "AuthFailure"},
		{name: "signed headers without host", call: valid, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;host", "content-type", 1))
		}, want: "AuthFailure.SignatureFailure"},
		{name: "wrong version", call: func() signedCall { c := valid; c.Version = "2017-03-12"; return c }(), want: "NoSuchVersion"},
		{name: "unknown action", call: func() signedCall { c := valid; c.Action = "DescribeInstances"; return c }(), want: "InvalidAction"},
		{name: "missing action", call: func() signedCall { c := valid; c.Action = ""; return c }(), want: "MissingParameter"},
		{name: "distributor-only action by a subagent", call: signedCall{Action: "QuerySubAgentsDetailV2", Body: `{"Page":1,"PageSize":10}`,
			SecretId: sub.SecretId, SecretKey: sub.SecretKey, Time: testNow}, want: "UnauthorizedOperation.UinNoAuth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.call.request()
			if tt.tamper != nil {
				tt.tamper(r)
			}
			a := serve(t, s, r)
			if got := a.code(); got != tt.want {
				t.Fatalf("code %q (%s), want %q", got, a.message(), tt.want)
			}
			if tt.want == "" {
				if _, ok := a.Response["RemainingCredit"]; !ok {
					t.Errorf("success answer lacks RemainingCredit: %v", a.Response)
				}
			}
		})
	}
}

func TestProtocolChecks(t *testing.T) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(t, clock.Now, 1000)
	dist := credentialFor(t, s, "distributor", 0)
	valid := signedCall{Action: "QueryPartnerCredit", SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}

	tests := []struct {
		name   string
		tamper func(r *http.Request)
		want   string
	}{
		{"PUT", func(r *http.Request) { r.Method = http.MethodPut }, "UnsupportedProtocol"},
		{"DELETE", func(r *http.Request) { r.Method = http.MethodDelete }, "UnsupportedProtocol"},
		{"POST form", func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, "UnsupportedProtocol"},
		{"POST without content type", func(r *http.Request) { r.Header.Del("Content-Type") }, "UnsupportedProtocol"},
		{"charset allowed but signature covers it", func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") }, "AuthFailure.SignatureFailure"},
		{"missing version", func(r *http.Request) { r.Header.Del("X-TC-Version") }, "MissingParameter"},
		{"missing timestamp", func(r *http.Request) { r.Header.Del("X-TC-Timestamp") }, "MissingParameter"},
		{"timestamp not a number", func(r *http.Request) { r.Header.Set("X-TC-Timestamp", "soon") }, "InvalidParameter"},
		{"body over 10 MB", func(r *http.Request) {
			big := bytes.Repeat([]byte(" "), maxBodyBytes+1)
			r.Body = io.NopCloser(bytes.NewReader(big))
			r.ContentLength = int64(len(big))
		}, "RequestSizeLimitExceeded"},
		{"body over 10 MB, length unknown", func(r *http.Request) {
			r.Body = io.NopCloser(io.LimitReader(zeroReader{}, maxBodyBytes+100))
			r.ContentLength = -1
		}, "RequestSizeLimitExceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid.request()
			tt.tamper(r)
			if got := serve(t, s, r).code(); got != tt.want {
				t.Fatalf("code %q, want %q", got, tt.want)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestCharsetSignedBySender(t *testing.T) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(t, clock.Now, 1000)
	dist := credentialFor(t, s, "distributor", 0)
	// Sign with a content type carrying a charset, as some SDKs do.
	r := signedCall{Action: "QueryPartnerCredit", SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}.request()
	r2 := resign(t, r, dist.SecretKey, "application/json; charset=utf-8")
	if got := serve(t, s, r2).code(); got != "" {
		t.Fatalf("code %q, want success", got)
	}
}

// resign signs r again with another Content-Type, using the test's signer.
func resign(t *testing.T, r *http.Request, key, contentType string) *http.Request {
	t.Helper()
	body, _ := io.ReadAll(r.Body)
	ts, _ := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	ph := sha256.Sum256(body)
	canonical := r.Method + "\n/\n" + r.URL.RawQuery + "\ncontent-type:" + contentType + "\nhost:" + r.Host + "\n\ncontent-type;host\n" + hex.EncodeToString(ph[:])
	ch := sha256.Sum256([]byte(canonical))
	sts := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + date + "/intlpartnersmgt/tc3_request\n" + hex.EncodeToString(ch[:])
	mac := func(k []byte, m string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(m)); return h.Sum(nil) }
	k := mac(mac(mac([]byte("TC3"+key), date), "intlpartnersmgt"), "tc3_request")
	id := strings.TrimPrefix(strings.Split(r.Header.Get("Authorization"), "/")[0], "TC3-HMAC-SHA256 Credential=")
	out := httptest.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
	out.Host = r.Host
	out.Header = r.Header.Clone()
	out.Header.Set("Content-Type", contentType)
	out.Header.Set("Authorization", fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s/intlpartnersmgt/tc3_request, SignedHeaders=content-type;host, Signature=%s",
		id, date, hex.EncodeToString(mac(k, sts))))
	return out
}

func TestGETParameters(t *testing.T) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(t, clock.Now, 1000)
	dist := credentialFor(t, s, "distributor", 0)
	cust := credentialFor(t, s, "customer", 0)
	get := func(action string, q url.Values, cred Credential) apiAnswer {
		return serve(t, s, signedCall{Method: http.MethodGet, Action: action, Query: q.Encode(),
			SecretId: cred.SecretId, SecretKey: cred.SecretKey, Time: testNow}.request())
	}
	tests := []struct {
		name   string
		action string
		query  url.Values
		cred   Credential
		want   string
	}{
		{"flattened list", "QueryCreditByUinList", url.Values{"UinList.0": {"100001"}, "UinList.1": {"100002"}}, dist, "UnauthorizedOperation.NotCustomerUin"},
		{"list with a gap", "QueryCreditByUinList", url.Values{"UinList.0": {"1"}, "UinList.2": {"2"}}, dist, "InvalidParameter"},
		{"list without index", "QueryCreditByUinList", url.Values{"UinList": {"1"}}, dist, "InvalidParameter"},
		{"list item not a number", "QueryCreditByUinList", url.Values{"UinList.0": {"abc"}}, dist, "InvalidParameter"},
		{"missing required", "QueryCreditByUinList", url.Values{}, dist, "MissingParameter"},
		{"unknown parameter", "QueryPartnerCredit", url.Values{"Foo": {"1"}}, dist, "UnknownParameter"},
		{"common parameters ignored", "QueryPartnerCredit", url.Values{"Nonce": {"1"}, "Region": {"ap-guangzhou"}}, dist, ""},
		{"integers converted", "QueryCustomersCredit", url.Values{"Page": {"1"}, "PageSize": {"10"}}, dist, ""},
		{"page zero", "QueryCustomersCredit", url.Values{"Page": {"0"}}, dist, "InvalidParameter.Page"},
		{"nested object list", "DescribeCustomerOwnCostExplorerSummary", url.Values{
			"Dimension": {"Default"}, "FeeType": {"totalCost"}, "BillType": {"1"}, "PeriodType": {"month"},
			"StartTime": {"2025-05-01 00:00:00"}, "EndTime": {"2025-06-30 23:59:59"}, "Page": {"1"}, "PageSize": {"10"},
			"Filter.BusinessIn.0": {"p_cvm"}, "Filter.BusinessIn.1": {"p_cos"},
		}, cust, ""},
		{"unknown nested member", "DescribeCustomerOwnCostExplorerSummary", url.Values{
			"Dimension": {"Default"}, "FeeType": {"totalCost"}, "BillType": {"1"}, "PeriodType": {"month"},
			"StartTime": {"2025-05-01 00:00:00"}, "EndTime": {"2025-06-30 23:59:59"}, "Page": {"1"}, "PageSize": {"10"},
			"Filter.Nope.0": {"x"},
		}, cust, "UnknownParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := get(tt.action, tt.query, tt.cred)
			if got := a.code(); got != tt.want {
				t.Fatalf("code %q (%s), want %q", got, a.message(), tt.want)
			}
		})
	}
}

func TestRequestsCounted(t *testing.T) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(t, clock.Now, 1000)
	dist := credentialFor(t, s, "distributor", 0)
	ok := signedCall{Action: "QueryPartnerCredit", SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}
	bad := ok
	bad.SecretKey = "wrong"
	serve(t, s, ok.request())
	serve(t, s, ok.request())
	serve(t, s, bad.request())
	if got := s.Requests("QueryPartnerCredit"); got != 2 {
		t.Errorf("Requests = %d, want 2 (only authenticated requests count)", got)
	}
	if got := s.Requests("QueryVoucherPool"); got != 0 {
		t.Errorf("Requests(QueryVoucherPool) = %d, want 0", got)
	}
}

func TestSandboxEndpoints(t *testing.T) {
	s := newTestServer(t, (&fakeClock{t: testNow}).Now, 1)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}

	t.Run("credentials", func(t *testing.T) {
		rec := get("/sandbox/credentials")
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		var creds []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &creds); err != nil {
			t.Fatal(err)
		}
		if len(creds) == 0 {
			t.Fatal("no credentials")
		}
		roles := map[string]bool{}
		for _, c := range creds {
			if len(c) != 5 {
				t.Errorf("credential has fields %v, want exactly Role, Uin, Name, SecretId, SecretKey", c)
			}
			for _, k := range []string{"Role", "Uin", "Name", "SecretId", "SecretKey"} {
				if _, ok := c[k]; !ok {
					t.Errorf("credential lacks %s: %v", k, c)
				}
			}
			roles[fmt.Sprint(c["Role"])] = true
		}
		for _, r := range []string{"distributor", "subagent", "customer"} {
			if !roles[r] {
				t.Errorf("no %s credential", r)
			}
		}
	})
	t.Run("outbox", func(t *testing.T) {
		rec := get("/sandbox/outbox")
		var msgs []OutboxMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &msgs); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("status %d, %v: %s", rec.Code, err, rec.Body)
		}
	})
	for _, path := range []string{"/healthz", "/sandbox/"} {
		t.Run(path, func(t *testing.T) {
			rec := get(path)
			var st map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != http.StatusOK || st["Status"] != "ok" {
				t.Fatalf("status %d, %v: %s", rec.Code, err, rec.Body)
			}
		})
	}
	t.Run("unknown file", func(t *testing.T) {
		if rec := get("/sandbox/files/nope.csv"); rec.Code != http.StatusNotFound {
			t.Fatalf("status %d, want 404", rec.Code)
		}
	})
}

func TestNewRequestIDUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if !uuidV4.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated RequestId %q", id)
		}
		seen[id] = true
	}
}

func TestSuccessBodySetsRequestID(t *testing.T) {
	tests := []struct {
		name string
		resp any
	}{
		{"generated type with empty RequestId", &partnerapi.QueryDirectCustomersCreditResponse{}},
		{"nil", nil},
		{"map", map[string]int{"Total": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := successBody("11111111-1111-4111-8111-111111111111", tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			var a apiAnswer
			if err := json.Unmarshal(b, &a); err != nil {
				t.Fatal(err)
			}
			if a.requestID() != "11111111-1111-4111-8111-111111111111" {
				t.Errorf("RequestId %q in %s", a.requestID(), b)
			}
		})
	}
	if _, err := successBody("x", []int{1}); err == nil {
		t.Error("a non-object response must be an error")
	}
}

func BenchmarkServeQueryPartnerCredit(b *testing.B) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(b, clock.Now, 1e9)
	dist := credentialFor(b, s, "distributor", 0)
	call := signedCall{Action: "QueryPartnerCredit", SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}
	template := call.request()
	auth := template.Header.Get("Authorization")
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		r.Host = template.Host
		r.Header = template.Header.Clone()
		r.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"Error"`)) {
			b.Fatalf("answer %d %s", rec.Code, rec.Body)
		}
	}
}

func TestPanicAnswersInternalError(t *testing.T) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(t, clock.Now, 1000)
	dist := credentialFor(t, s, "distributor", 0)
	var logged bytes.Buffer
	s.log = slog.New(slog.NewTextHandler(&logged, nil))
	s.world = nil // any use of the World now panics
	a := serve(t, s, signedCall{Action: "QueryPartnerCredit", SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}.request())
	if a.code() != "InternalError" {
		t.Fatalf("code %q, want InternalError", a.code())
	}
	if !strings.Contains(logged.String(), "panic") {
		t.Errorf("the panic was not logged: %s", logged.String())
	}
}
