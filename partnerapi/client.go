// Package partnerapi is a typed client of Tencent Cloud International's
// partner API (intlpartnersmgt, version 2022-09-28). Requests are signed and
// sent by Tencent Cloud's official Go SDK common module; every call waits on
// its (credential, action) limiter at the documented rate; reads are retried
// on transient answers, writes never are.
package partnerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// DefaultEndpoint is the partner API's public host.
const DefaultEndpoint = "intlpartnersmgt.tencentcloudapi.com"

// Credential is a Tencent Cloud API key, with a session token when it is temporary.
type Credential struct {
	SecretId  string
	SecretKey string
	Token     string
}

// CredentialFromEnv reads TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY and
// the optional TENCENTCLOUD_SESSION_TOKEN through getenv; ok is false when
// the id or key is missing.
func CredentialFromEnv(getenv func(string) string) (cred Credential, ok bool) {
	cred = Credential{
		SecretId:  getenv("TENCENTCLOUD_SECRET_ID"),
		SecretKey: getenv("TENCENTCLOUD_SECRET_KEY"),
		Token:     getenv("TENCENTCLOUD_SESSION_TOKEN"),
	}
	return cred, cred.SecretId != "" && cred.SecretKey != ""
}

// Config configures a Client.
type Config struct {
	Credential Credential
	// Endpoint is the host (and port) to call; DefaultEndpoint when empty.
	Endpoint string
	// Scheme is "https" (the default) or "http" (the local sandbox).
	Scheme string
	// Limiters paces calls; share one between clients of a process. When nil
	// the client makes its own at the documented limits.
	Limiters *Limiters
	// Transport carries the HTTP requests; when nil, a transport that keeps
	// enough idle connections for the budget's concurrency.
	Transport http.RoundTripper
	// MaxReadAttempts bounds how often a read is tried; 4 when zero.
	MaxReadAttempts int
	// AttemptTimeout bounds one HTTP exchange; 60 s when zero.
	AttemptTimeout time.Duration
	// Observe, when set, is told the outcome of every attempt: "ok", the
	// API's error code, "transport" or "unknown".
	Observe func(action, outcome string, took time.Duration)
}

// Client calls the partner API with one credential.
type Client struct {
	cfg      Config
	sdk      *common.Client
	limiters *Limiters
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.Credential.SecretId == "" || cfg.Credential.SecretKey == "" {
		return nil, errors.New("partner API client: a SecretId and SecretKey are required")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	switch strings.ToLower(cfg.Scheme) {
	case "", "https":
		cfg.Scheme = "https"
	case "http":
		cfg.Scheme = "http"
	default:
		return nil, fmt.Errorf("partner API client: unsupported scheme %q", cfg.Scheme)
	}
	if cfg.MaxReadAttempts <= 0 {
		cfg.MaxReadAttempts = 4
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 60 * time.Second
	}
	lim := cfg.Limiters
	if lim == nil {
		lim = NewLimiters(1)
	}

	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = cfg.Endpoint
	prof.HttpProfile.Scheme = strings.ToUpper(cfg.Scheme)
	prof.HttpProfile.ReqMethod = "POST"
	prof.HttpProfile.ReqTimeout = 0 // each attempt carries its own deadline in its context
	prof.Language = "en-US"
	// The SDK must never resend behind our back: a write is sent once, and
	// reads are retried here, where the limiter and the context are honoured.
	prof.NetworkFailureMaxRetries = 0
	prof.RateLimitExceededMaxRetries = 0
	prof.UnsafeRetryOnConnectionFailure = false
	prof.DisableRegionBreaker = true
	prof.Debug = false // the debug dump would log whole signed requests

	var cred common.CredentialIface
	if cfg.Credential.Token != "" {
		cred = common.NewTokenCredential(cfg.Credential.SecretId, cfg.Credential.SecretKey, cfg.Credential.Token)
	} else {
		cred = common.NewCredential(cfg.Credential.SecretId, cfg.Credential.SecretKey)
	}
	sdk := common.NewCommonClient(cred, "", prof)
	if cfg.Transport == nil {
		cfg.Transport = newTransport()
	}
	sdk.WithHttpTransport(answerTransport{cfg.Transport})
	return &Client{cfg: cfg, sdk: sdk, limiters: lim}, nil
}

// answerTransport hands the SDK every ordinary answer (HTTP 200, not an
// event stream) labelled application/octet-stream. The label only steers
// the SDK past TryReadErr, which its rate-limit retry (turned off here)
// runs on every answer, decoding the whole body twice to look for
// RequestLimitExceeded; the SDK then reads the answer as JSON all the same
// (ParseFromHttpResponse treats anything but an event stream as JSON) and
// checks it for errors with sdkResponse.ParseErrorFromHTTPResponse, the
// same checks TryReadErr makes. Other answers pass unchanged.
type answerTransport struct{ next http.RoundTripper }

func (t answerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusOK {
		switch resp.Header.Get("Content-Type") {
		case "text/event-stream", "application/octet-stream":
		default:
			resp.Header.Set("Content-Type", "application/octet-stream")
		}
	}
	return resp, err
}

// idleConnsPerHost keeps enough connections open for the budget's
// concurrency: the SDK's default of two would make every ninth call or so
// open a new connection (a TLS handshake against the real API).
const idleConnsPerHost = 64

// newTransport is the HTTP transport of a client given none.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * idleConnsPerHost
	t.MaxIdleConnsPerHost = idleConnsPerHost
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// SecretID returns the id of the client's credential.
func (c *Client) SecretID() string { return c.cfg.Credential.SecretId }

// Limiters returns the limiters the client waits on.
func (c *Client) Limiters() *Limiters { return c.limiters }

type languageKey struct{}

// WithLanguage returns a context whose calls ask the API to answer in lang
// ("en-US" or "zh-CN").
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, languageKey{}, lang)
}

func languageFrom(ctx context.Context) string {
	if lang, ok := ctx.Value(languageKey{}).(string); ok && (lang == "zh-CN" || lang == "en-US") {
		return lang
	}
	return "en-US"
}

// sdkRequest hands the SDK a body we encoded ourselves, so that numbers
// keep their exact values instead of passing through float64 maps.
type sdkRequest struct {
	*tchttp.BaseRequest
	body []byte
}

func (r *sdkRequest) MarshalJSON() ([]byte, error) { return r.body, nil }

// sdkResponse keeps the answer raw so it decodes straight into our types.
// It also reads the answer in one pass when the SDK asks it for the
// answer's error (see ParseErrorFromHTTPResponse), decoding out on the way.
type sdkResponse struct {
	tchttp.BaseResponse
	Response json.RawMessage `json:"Response"`

	out     any  // where the answer's Response goes
	decoded bool // out holds the answer: decodeAnswer is not needed
}

// ParseErrorFromHTTPResponse is the SDK's check of an answer for an error,
// which the SDK's own version makes by decoding the whole body twice (the
// Response's Error, then the deprecated top-level code) before it is
// decoded a third time into Response and a fourth into out. Here one pass
// decodes the Response into out and its Error beside it. When that pass
// does not give a clear answer (a body it cannot decode, no Response, no
// RequestId), the SDK's own version decides, so the outcome is the SDK's.
func (r *sdkResponse) ParseErrorFromHTTPResponse(body []byte) error {
	if handled, err := r.decodeOnce(body); handled {
		return err
	}
	return r.BaseResponse.ParseErrorFromHTTPResponse(body)
}

// decodeOnce is the one-pass check and decode; handled is false when it
// cannot tell and the SDK's check must run.
func (r *sdkResponse) decodeOnce(body []byte) (handled bool, err error) {
	shape := answerShapeOf(r.out)
	if shape == nil {
		return false, nil
	}
	// Two Response members are read differently by the SDK's check (merged)
	// and its decoding (the last one): leave such an answer to the SDK.
	if n, sure := responseMembers(body); !sure || n != 1 {
		return false, nil
	}
	answer := reflect.New(shape.combined)
	fresh := reflect.New(shape.out)
	answer.Elem().Field(0).Set(fresh)
	env := answerEnvelope{Response: answer.Interface()}
	if json.Unmarshal(body, &env) != nil || env.Response == nil {
		return false, nil
	}
	requestID := fresh.Elem().Field(shape.requestID).String()
	if requestID == "" {
		return false, nil
	}
	if e, _ := answer.Elem().Field(1).Interface().(*answerError); e != nil && e.Code != "" {
		return true, tcerr.NewTencentCloudSDKError(e.Code, e.Message, requestID)
	}
	if env.Code != 0 {
		return true, tcerr.NewTencentCloudSDKError(env.CodeDesc, env.Message, "")
	}
	reflect.ValueOf(r.out).Elem().Set(fresh.Elem())
	r.decoded = true
	return true, nil
}

// responseMembers counts the members of the answer's top-level object whose
// name matches "Response" as a decoder matches names (in any case). sure is
// false for a name it cannot compare without decoding (escapes, non-ASCII).
// It reads past strings with IndexByte, so it costs little next to decoding.
func responseMembers(body []byte) (n int, sure bool) {
	depth, expectName := 0, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '"':
			end := i + 1
			for {
				q := bytes.IndexByte(body[end:], '"')
				if q < 0 {
					return n, false
				}
				end += q
				k := end - 1
				for body[k] == '\\' {
					k--
				}
				if (end-1-k)%2 == 0 {
					break
				}
				end++
			}
			if depth == 1 && expectName {
				name := body[i+1 : end]
				for _, b := range name {
					if b == '\\' || b >= 0x80 {
						return n, false
					}
				}
				if bytes.EqualFold(name, []byte("Response")) {
					n++
				}
				expectName = false
			}
			i = end
		case '{', '[':
			depth++
			expectName = depth == 1 && c == '{'
		case '}', ']':
			depth--
		case ',':
			expectName = depth == 1
		}
	}
	return n, true
}

// answerEnvelope is an answer's top level: the Response and the deprecated
// error form's members, as the SDK's ErrorResponse and
// DeprecatedAPIErrorResponse read them.
type answerEnvelope struct {
	Response any    `json:"Response"`
	Code     int    `json:"code"`
	Message  string `json:"message"`
	CodeDesc string `json:"codeDesc"`
}

// answerError is the Response's Error member of an error answer.
type answerError struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

// answerShape is, for one response type, the struct its answer's Response
// decodes into in one pass: an embedded pointer to the response (whose
// members are promoted) and the Error member beside it.
type answerShape struct {
	out       reflect.Type // the response struct
	combined  reflect.Type // struct{ *Response; Error *answerError }
	requestID int          // index of the response's RequestId field
}

// answerShapes caches answerShape per response pointer type; a nil
// *answerShape marks a type the one pass does not take.
var answerShapes sync.Map

func answerShapeOf(out any) *answerShape {
	t := reflect.TypeOf(out)
	if t == nil {
		return nil
	}
	if v, ok := answerShapes.Load(t); ok {
		return v.(*answerShape)
	}
	shape := newAnswerShape(t)
	answerShapes.Store(t, shape)
	return shape
}

func newAnswerShape(t reflect.Type) (shape *answerShape) {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || t.Elem().Name() == "" || t.NumMethod() > 0 {
		return nil
	}
	rid, ok := t.Elem().FieldByName("RequestId")
	if !ok || len(rid.Index) != 1 || rid.Type.Kind() != reflect.String {
		return nil
	}
	if _, clash := t.Elem().FieldByName("Error"); clash {
		return nil
	}
	defer func() {
		if recover() != nil { // a type reflect.StructOf cannot embed
			shape = nil
		}
	}()
	combined := reflect.StructOf([]reflect.StructField{
		{Name: t.Elem().Name(), Type: t, Anonymous: true},
		{Name: "Error", Type: reflect.TypeFor[*answerError](), Tag: `json:"Error"`},
	})
	return &answerShape{out: t.Elem(), combined: combined, requestID: rid.Index[0]}
}

// call sends one action: it waits on the limiter, sends, and decodes the
// answer into out. Reads are retried on transient failures; writes never.
func (c *Client) call(ctx context.Context, action string, in, out any) error {
	info, ok := actionTable[action]
	if !ok {
		return fmt.Errorf("unknown partner API action %q", action)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s request: %w", action, err)
	}
	attempts := c.cfg.MaxReadAttempts
	if info.Write {
		attempts = 1
	}
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, info, body, out)
		if err == nil || info.Write || attempt >= attempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if err := c.backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

func retryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return retryableCodes[apiErr.Code]
	}
	var tErr *transportError
	return errors.As(err, &tErr)
}

// backoff waits a jittered, growing pause before the next read attempt,
// shortened by the limiter scale so compressed sandbox runs stay compressed.
func (c *Client) backoff(ctx context.Context, attempt int) error {
	base := 200 * time.Millisecond << (attempt - 1)
	base = min(base, 5*time.Second)
	d := time.Duration(float64(base) * (0.5 + rand.Float64()) / c.limiters.Scale())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transportError is a failure to get an answer from the API at all.
type transportError struct {
	action string
	err    error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("%s: no answer from the partner API: %v", e.action, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// sendTrace records how far a request got, to tell a write that never left
// from one whose outcome is unknown.
type sendTrace struct {
	connecting atomic.Bool
	wrote      atomic.Bool
}

func (t *sendTrace) hook(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn:      func(string) { t.connecting.Store(true) },
		WroteRequest: func(httptrace.WroteRequestInfo) { t.wrote.Store(true) },
	})
}

// maybeSent reports whether the server may have received the request.
func (t *sendTrace) maybeSent(err error) bool {
	if t.wrote.Load() {
		return true
	}
	if t.connecting.Load() {
		return false // traced, and the request was never written
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return false
	}
	var dnsErr *net.DNSError
	return !errors.As(err, &dnsErr)
}

func (c *Client) attempt(ctx context.Context, info ActionInfo, body []byte, out any) error {
	start := time.Now()
	outcome := "ok"
	defer func() {
		if c.cfg.Observe != nil {
			c.cfg.Observe(info.Name, outcome, time.Since(start))
		}
	}()
	if err := c.limiters.Wait(ctx, c.cfg.Credential.SecretId, info.Name); err != nil {
		outcome = "cancelled"
		return err
	}
	start = time.Now()
	defer func() { c.limiters.Record(c.cfg.Credential.SecretId, info.Name, outcome != "ok") }()

	actx, cancel := context.WithTimeout(ctx, c.cfg.AttemptTimeout)
	defer cancel()
	var trace sendTrace
	req := &sdkRequest{BaseRequest: &tchttp.BaseRequest{}, body: body}
	req.Init().WithApiInfo(Service, APIVersion, info.Name)
	req.SetContext(trace.hook(actx))
	req.SetHeader(map[string]string{"X-TC-Language": languageFrom(ctx)})
	resp := sdkResponse{out: out}
	err := c.sdk.Send(req, &resp)

	if err == nil {
		if resp.decoded {
			return nil
		}
		if err := decodeAnswer(resp.Response, out); err != nil {
			if info.Write {
				outcome = "unknown"
				return &OutcomeUnknownError{Action: info.Name, Err: err}
			}
			outcome = "transport"
			return &transportError{action: info.Name, err: err}
		}
		return nil
	}
	var sdkErr *tcerr.TencentCloudSDKError
	if errors.As(err, &sdkErr) && !strings.HasPrefix(sdkErr.Code, "ClientError") {
		outcome = sdkErr.Code
		return &APIError{Action: info.Name, Code: sdkErr.Code, Message: sdkErr.Message, RequestId: sdkErr.RequestId}
	}
	if info.Write && trace.maybeSent(err) {
		outcome = "unknown"
		return &OutcomeUnknownError{Action: info.Name, Err: err}
	}
	outcome = "transport"
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", info.Name, ctx.Err())
	}
	return &transportError{action: info.Name, err: err}
}

func decodeAnswer(raw json.RawMessage, out any) error {
	if len(raw) == 0 {
		return errors.New("the answer has no Response object")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
