package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	sdkprofile "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// sdkClient returns an official SDK client that believes it talks to
// intlpartnersmgt.tencentcloudapi.com but whose connections all reach ts.
func sdkClient(ts *httptest.Server, id, key, method string) *common.Client {
	prof := sdkprofile.NewClientProfile()
	prof.HttpProfile.Endpoint = "intlpartnersmgt.tencentcloudapi.com"
	prof.HttpProfile.Scheme = "HTTP"
	prof.HttpProfile.ReqMethod = method
	prof.RateLimitExceededMaxRetries = 0
	addr := ts.Listener.Addr().String()
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	client := common.NewCommonClient(common.NewCredential(id, key), "", prof)
	client.WithHttpTransport(transport)
	return client
}

func TestSDKSignedRequests(t *testing.T) {
	// The SDK stamps requests with the real clock, so the sandbox uses it too.
	s := newTestServer(t, nil, 1000)
	ts := httptest.NewServer(s)
	defer ts.Close()
	dist := credentialFor(t, s, "distributor", 0)
	sub := credentialFor(t, s, "subagent", 0)

	tests := []struct {
		name   string
		method string
		id     string
		key    string
		action string
		params string
		want   string
	}{
		{"POST valid", "POST", dist.SecretId, dist.SecretKey, "QueryPartnerCredit", "", ""},
		{"GET valid", "GET", dist.SecretId, dist.SecretKey, "QueryPartnerCredit", "", ""},
		{"POST with parameters", "POST", dist.SecretId, dist.SecretKey, "QueryCustomersCredit", `{"Page":1,"PageSize":5}`, ""},
		{"wrong key", "POST", dist.SecretId, "x" + dist.SecretKey, "QueryPartnerCredit", "", "AuthFailure.SignatureFailure"},
		{"GET wrong key", "GET", dist.SecretId, "x" + dist.SecretKey, "QueryPartnerCredit", "", "AuthFailure.SignatureFailure"},
		{"unknown id", "POST", "AKID" + strings.Repeat("0", 32), dist.SecretKey, "QueryPartnerCredit", "", "AuthFailure.SecretIdNotFound"},
		{"malformed id", "POST", "mykey", dist.SecretKey, "QueryPartnerCredit", "", "AuthFailure.InvalidSecretId"},
		{"unknown action", "POST", dist.SecretId, dist.SecretKey, "RunInstances", "", "InvalidAction"},
		{"role not allowed", "POST", sub.SecretId, sub.SecretKey, "QuerySubAgentsDetailV2", `{"Page":1,"PageSize":10}`, "UnauthorizedOperation.UinNoAuth"},
		{"validation through the SDK", "POST", dist.SecretId, dist.SecretKey, "QueryCreditByUinList", `{"UinList":[]}`, "InvalidParameterValue.UinList"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := sdkClient(ts, tt.id, tt.key, tt.method)
			req := tchttp.NewCommonRequest("intlpartnersmgt", "2022-09-28", tt.action)
			if tt.params != "" {
				if err := req.SetActionParameters(tt.params); err != nil {
					t.Fatal(err)
				}
			}
			resp := tchttp.NewCommonResponse()
			err := client.Send(req, resp)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				var body struct {
					Response map[string]json.RawMessage
				}
				if err := json.Unmarshal(resp.GetBody(), &body); err != nil {
					t.Fatalf("body: %v", err)
				}
				var id string
				_ = json.Unmarshal(body.Response["RequestId"], &id)
				if !uuidV4.MatchString(id) {
					t.Errorf("RequestId %q", id)
				}
				return
			}
			var sdkErr *sdkerrors.TencentCloudSDKError
			if !errors.As(err, &sdkErr) {
				t.Fatalf("Send error %v (%T), want an SDK error %s", err, err, tt.want)
			}
			if sdkErr.GetCode() != tt.want {
				t.Fatalf("code %s (%s), want %s", sdkErr.GetCode(), sdkErr.GetMessage(), tt.want)
			}
			if !uuidV4.MatchString(sdkErr.GetRequestId()) {
				t.Errorf("RequestId %q", sdkErr.GetRequestId())
			}
		})
	}
}

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   string // error code, "" when it parses
	}{
		{"well formed", "TC3-HMAC-SHA256 Credential=AKIDx/2025-01-01/intlpartnersmgt/tc3_request, SignedHeaders=content-type;host, Signature=ab", ""},
		{"without spaces", "TC3-HMAC-SHA256 Credential=AKIDx/2025-01-01/intlpartnersmgt/tc3_request,SignedHeaders=content-type;host,Signature=ab", ""},
		{"empty", "", "AuthFailure"},
		{"no algorithm", "Credential=a/b/c/d, SignedHeaders=host, Signature=ab", "AuthFailure"},
		{"short scope", "TC3-HMAC-SHA256 Credential=AKIDx/2025-01-01, SignedHeaders=content-type;host, Signature=ab", "AuthFailure"},
		{"unknown field", "TC3-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=ab, Extra=1", "AuthFailure"},
		{"missing signature", "TC3-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host", "AuthFailure"},
		{"garbage", "TC3-HMAC-SHA256 ,,,,", "AuthFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := parseAuthorization(tt.header)
			got := ""
			if e != nil {
				got = e.Code
			}
			if got != tt.want {
				t.Fatalf("code %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidSecretIdForm(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"AKID" + strings.Repeat("a1B2", 8), true},
		{"AKID" + strings.Repeat("a", 31), false},
		{"AKID" + strings.Repeat("a", 33), false},
		{"AKIE" + strings.Repeat("a", 32), false},
		{"AKID" + strings.Repeat("-", 32), false},
		{"", false},
	}
	for _, tt := range tests {
		if got := validSecretIdForm(tt.id); got != tt.want {
			t.Errorf("validSecretIdForm(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// TestHostSignedWithOrWithoutPort sends requests over loopback whose Host
// header carries the port, signed the way the Go SDK signs the host (with
// the port) and the way the Node.js SDK does (the host name alone).
func TestHostSignedWithOrWithoutPort(t *testing.T) {
	s := newTestServer(t, nil, 1000) // real clock: the requests are stamped now
	ts := httptest.NewServer(s)
	defer ts.Close()
	port := ts.Listener.Addr().(*net.TCPAddr).Port
	withPort := func(host string) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
	dist := credentialFor(t, s, "distributor", 0)
	client := &http.Client{Timeout: 10 * time.Second}

	tests := []struct {
		name       string
		signedHost string
		sentHost   string
		want       string
	}{
		{"host and port, as the Go SDK signs", withPort("127.0.0.1"), withPort("127.0.0.1"), ""},
		{"host name only, as the Node.js SDK signs", "127.0.0.1", withPort("127.0.0.1"), ""},
		{"named host only", "sandbox.internal", withPort("sandbox.internal"), ""},
		{"IPv6 host name only", "[::1]", withPort("::1"), ""},
		{"default port, nothing to strip", "intlpartnersmgt.tencentcloudapi.com", "intlpartnersmgt.tencentcloudapi.com", ""},
		{"wrong host", "evil.example.com", withPort("127.0.0.1"), "AuthFailure.SignatureFailure"},
		{"wrong host with the right port", withPort("evil.example.com"), withPort("127.0.0.1"), "AuthFailure.SignatureFailure"},
		{"right host, wrong port", "127.0.0.1:1", withPort("127.0.0.1"), "AuthFailure.SignatureFailure"},
		{"port signed but not sent", "sandbox.internal:443", "sandbox.internal", "AuthFailure.SignatureFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed := signedCall{Host: tt.signedHost, Action: "QueryPartnerCredit", SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: time.Now()}.request()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.URL+"/", signed.Body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = signed.Header.Clone()
			req.Host = tt.sentHost
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			a := decodeAnswer(t, resp.StatusCode, resp.Header, body)
			if got := a.code(); got != tt.want {
				t.Fatalf("signed for %q, sent to %q: code %q (%s), want %q", tt.signedHost, tt.sentHost, got, a.message(), tt.want)
			}
		})
	}
}
