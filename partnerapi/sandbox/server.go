package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"resellerportal/partnerapi"
)

// maxBodyBytes is the largest request body the service accepts (10 MB).
const maxBodyBytes = 10 << 20

// Options configures a sandbox server.
type Options struct {
	Seed      int64            // seed of the generated world
	Customers int              // number of customers in the world, passed to the World
	RateScale float64          // multiplies every documented rate limit; 0 means 1
	Now       func() time.Time // clock of the World, and of the protocol checks unless RequestClock is set; time.Now when nil
	Logger    *slog.Logger     // where to log; nothing is logged when nil

	// RequestClock, when set, is the clock of the protocol checks (signature
	// expiry and rate limits) instead of Now. Give time.Now here when Now is
	// a test clock moved days ahead while clients sign with the real time.
	RequestClock func() time.Time

	// NotAllowlisted lists actions that require Tencent's allowlist (see
	// partnerapi.RequiresAllowlist) for which no partner is allowlisted at
	// first; every other allowlisted action is granted to every partner.
	NotAllowlisted []string

	// MailLimitScope is what FailedOperation.SendMailLimit180 is counted
	// per; MailLimitPerAddress when empty.
	MailLimitScope MailLimitScope
}

// Server is the sandbox's HTTP front: it checks protocol, signature, rate
// limit, role and parameters the way the real service does and hands
// accepted calls to the World.
type Server struct {
	world   *World
	now     func() time.Time // the clock of the protocol checks
	log     *slog.Logger
	mux     *http.ServeMux
	limiter *rateLimiter
	faults  *faultSet
	keys    signingKeys // signing keys derived lately

	mu     sync.Mutex
	counts map[string]int // API requests per action that passed authentication
}

// New builds the World and a server in front of it.
func New(opts Options) (*Server, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	requestNow := opts.RequestClock
	if requestNow == nil {
		requestNow = now
	}
	scale := opts.RateScale
	if scale == 0 {
		scale = 1
	}
	if scale < 0 {
		return nil, fmt.Errorf("sandbox: RateScale must not be negative, got %v", scale)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	world, err := NewWorld(WorldOptions{
		Seed: opts.Seed, Customers: opts.Customers, Now: now,
		NotAllowlisted: opts.NotAllowlisted, MailLimitScope: opts.MailLimitScope,
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: build world: %w", err)
	}
	s := &Server{
		world:   world,
		now:     requestNow,
		log:     logger,
		limiter: newRateLimiter(scale),
		faults:  &faultSet{},
		counts:  make(map[string]int),
	}
	s.mux = s.routes()
	return s, nil
}

// routes lists the whole HTTP surface of the sandbox.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	// The API itself: every method reaches serveAPI, which answers
	// UnsupportedProtocol for anything but GET and POST, as the service does.
	mux.HandleFunc("/{$}", s.serveAPI)

	// Local helpers for tests and the portal's development mode; unsigned.
	mux.HandleFunc("GET /healthz", s.serveStatus)
	mux.HandleFunc("GET /sandbox/{$}", s.serveStatus)
	mux.HandleFunc("GET /sandbox/faults", s.serveListFaults)
	mux.HandleFunc("POST /sandbox/faults", s.serveAddFault)
	mux.HandleFunc("DELETE /sandbox/faults", s.serveClearFaults)
	mux.HandleFunc("GET /sandbox/outbox", s.serveOutbox)
	mux.HandleFunc("GET /sandbox/credentials", s.serveCredentials)
	mux.HandleFunc("GET /sandbox/files/{name}", s.serveFile)
	mux.HandleFunc("GET /sandbox/allowlist", s.serveAllowlist)
	mux.HandleFunc("POST /sandbox/allowlist", s.serveSetAllowlisted)
	mux.HandleFunc("DELETE /sandbox/allowlist", s.serveResetAllowlist)
	mux.HandleFunc("POST /sandbox/invitations/{token}/accept", s.serveAcceptInvitation)
	mux.HandleFunc("GET /sandbox/settings", s.serveSettings)
	mux.HandleFunc("POST /sandbox/settings", s.serveChangeSettings)
	return mux
}

// ServeHTTP serves the API at "/" and the sandbox helpers under /sandbox/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Credentials returns the World's credentials, one per partner or customer
// that may sign requests.
func (s *Server) Credentials() []Credential { return s.world.Credentials() }

// Outbox returns the mails and SMS the sandbox sent, oldest first.
func (s *Server) Outbox() []OutboxMessage { return s.world.Outbox() }

// Requests reports how many API requests for the action have passed
// authentication so far.
func (s *Server) Requests(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[action]
}

func (s *Server) countRequest(action string) {
	s.mu.Lock()
	s.counts[action]++
	s.mu.Unlock()
}

// serveAPI runs one API call through the service's checks in the service's
// order: protocol, size, action, version, signature, rate limit, role,
// parameters, injected faults, and finally the World.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	requestID := newRequestID()
	action := r.Header.Get("X-TC-Action")
	answered := false
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared by identity, as net/http does
				panic(v)
			}
			s.log.Error("sandbox: panic serving API request",
				"request_id", requestID, "action", action, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !answered {
				writeAnswer(w, errorBody(requestID, errorf("InternalError", "An internal error occurred. Please try again later.")))
			}
		}
	}()

	resp, apiErr, end := s.call(r, action, requestID)
	switch end {
	case endDrop:
		answered = true
		s.log.Info("sandbox: dropped connection after applying the call", "request_id", requestID, "action", action)
		dropConnection(w)
		return
	case endGone:
		s.log.Info("sandbox: client went away during injected latency", "request_id", requestID, "action", action)
		return
	}
	var body []byte
	if apiErr != nil {
		body = errorBody(requestID, apiErr)
		s.log.Info("sandbox: API error", "request_id", requestID, "action", action,
			"code", apiErr.Code, "message", apiErr.Message, "elapsed", s.now().Sub(start))
	} else {
		var err error
		body, err = successBody(requestID, resp)
		if err != nil {
			s.log.Error("sandbox: encode response", "request_id", requestID, "action", action, "err", err)
			body = errorBody(requestID, errorf("InternalError", "An internal error occurred. Please try again later."))
		} else {
			s.log.Debug("sandbox: API call", "request_id", requestID, "action", action, "elapsed", s.now().Sub(start))
		}
	}
	answered = true
	writeAnswer(w, body)
}

// ending says how a call ends besides an answer.
type ending int

const (
	endAnswer ending = iota // answer with the response or the error
	endDrop                 // an injected fault closes the connection unanswered
	endGone                 // the client went away while the call waited
)

// call performs the checks and the call. It returns the response object or
// an API error, and how the exchange ends.
func (s *Server) call(r *http.Request, action, requestID string) (resp any, apiErr *apiError, end ending) {
	if e := checkProtocol(r); e != nil {
		return nil, e, endAnswer
	}
	body, e := readBody(r)
	if e != nil {
		return nil, e, endAnswer
	}
	if action == "" {
		return nil, errorf("MissingParameter", "The request is missing the X-TC-Action header."), endAnswer
	}
	info, ok := partnerapi.LookupAction(action)
	if !ok {
		return nil, errorf("InvalidAction", "The action `%s` is not found or not supported.", action), endAnswer
	}
	version := r.Header.Get("X-TC-Version")
	if version == "" {
		return nil, errorf("MissingParameter", "The request is missing the X-TC-Version header."), endAnswer
	}
	if version != partnerapi.APIVersion {
		return nil, errorf("NoSuchVersion", "The API version `%s` does not exist; use %s.", version, partnerapi.APIVersion), endAnswer
	}

	caller, e := s.authenticate(r, body)
	if e != nil {
		return nil, e, endAnswer
	}
	s.countRequest(action)

	if !s.limiter.allow(caller.SecretId, action, info.PerSecond, s.now()) {
		return nil, errorf("RequestLimitExceeded", "Your requests to %s exceed the frequency limit of %d per second; try again later.", action, info.PerSecond), endAnswer
	}
	if !info.Allows(caller.Role) {
		return nil, errorf("UnauthorizedOperation.UinNoAuth", "The caller (%s %d) has no permission for %s.", caller.Role, caller.Uin, action), endAnswer
	}

	var params json.RawMessage
	if r.Method == http.MethodGet {
		params, e = decodeQuery(action, r.URL.Query())
	} else {
		params, e = decodeRequest(action, body)
	}
	if e != nil {
		return nil, e, endAnswer
	}

	fault, faulty := s.faults.take(action)
	if faulty {
		if fault.Latency > 0 && !sleep(r.Context(), fault.Latency) {
			return nil, nil, endGone
		}
		if fault.Code != "" {
			return nil, fault.apiError(), endAnswer
		}
	}

	caller.BaseURL = baseURL(r)
	out, err := s.world.Call(caller, action, params)
	if faulty && fault.Drop {
		return nil, nil, endDrop
	}
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, ae, endAnswer
		}
		var pe *panicError
		if errors.As(err, &pe) {
			s.log.Error("sandbox: panic serving API request", "request_id", requestID, "action", action,
				"panic", fmt.Sprint(pe.value), "stack", string(pe.stack))
		} else {
			s.log.Error("sandbox: world call failed", "request_id", requestID, "action", action, "err", err)
		}
		return nil, errorf("InternalError", "An internal error occurred. Please try again later."), endAnswer
	}
	return out, nil, endAnswer
}

// checkProtocol accepts POST with a JSON body and GET with query parameters.
func checkProtocol(r *http.Request) *apiError {
	switch r.Method {
	case http.MethodPost:
		ct := r.Header.Get("Content-Type")
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorf("UnsupportedProtocol", "POST requests must carry Content-Type application/json, got %q.", ct)
		}
	case http.MethodGet:
		// The SDK's GET mode sends application/x-www-form-urlencoded; the
		// parameters are in the query whatever the header says.
	default:
		return errorf("UnsupportedProtocol", "The HTTP method %s is not supported; use POST with a JSON body or GET.", r.Method)
	}
	return nil
}

// readBody reads at most maxBodyBytes of the body; a larger one is
// RequestSizeLimitExceeded.
func readBody(r *http.Request) ([]byte, *apiError) {
	tooLarge := errorf("RequestSizeLimitExceeded", "The request body exceeds the limit of %d bytes.", maxBodyBytes)
	if r.ContentLength > maxBodyBytes {
		return nil, tooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, errorf("InvalidParameter", "The request body could not be read.")
	}
	return body, nil
}

// sleep waits for d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close() // nothing to do about a failed close of a connection we are abandoning
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// errorBody encodes the service's error answer.
func errorBody(requestID string, e *apiError) []byte {
	type errorObj struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	}
	type respObj struct {
		Error     errorObj `json:"Error"`
		RequestId string   `json:"RequestId"`
	}
	b, err := json.Marshal(struct {
		Response respObj `json:"Response"`
	}{respObj{errorObj{e.Code, e.Message}, requestID}})
	if err != nil { // cannot happen: only strings are encoded
		panic(err)
	}
	return b
}

// successBody encodes the World's response object with the RequestId set:
// {"Response":{...}} with the object's members in sorted order, as encoding
// a map of them would, its own RequestId replaced.
func successBody(requestID string, resp any) ([]byte, error) {
	raw, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	var members []member
	if !bytes.Equal(raw, []byte("null")) {
		var ok bool
		if members, ok = splitObject(raw); !ok {
			return successBodyByMap(requestID, raw, resp)
		}
	}
	id, _ := json.Marshal(requestID)
	members = slices.DeleteFunc(members, func(m member) bool { return m.key == "RequestId" })
	members = append(members, member{key: "RequestId", value: id})
	slices.SortFunc(members, func(a, b member) int { return strings.Compare(a.key, b.key) })
	size := len(`{"Response":{}}`)
	for _, m := range members {
		size += len(m.key) + len(m.value) + 4
	}
	out := make([]byte, 0, size)
	out = append(out, `{"Response":{`...)
	for i, m := range members {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, m.key...)
		out = append(out, '"', ':')
		out = append(out, m.value...)
	}
	return append(out, '}', '}'), nil
}

// member is one member of a JSON object: its key (without quotes) and its
// encoded value.
type member struct {
	key   string
	value []byte
}

// splitObject splits an object encoded by encoding/json (compact, valid)
// into its members. It reports false for anything else, and for keys with
// escapes, which would need decoding to sort as encoding/json sorts them.
func splitObject(b []byte) ([]member, bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	var out []member
	i := 1
	if b[i] == '}' {
		return out, i == len(b)-1
	}
	for {
		// The key: a string without escapes.
		if b[i] != '"' {
			return nil, false
		}
		end := bytes.IndexByte(b[i+1:], '"')
		if end < 0 {
			return nil, false
		}
		key := b[i+1 : i+1+end]
		if bytes.IndexByte(key, '\\') >= 0 {
			return nil, false
		}
		i += end + 2
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i++
		// The value: up to the comma or brace that closes it at depth 0.
		start, depth := i, 0
	value:
		for ; i < len(b); i++ {
			switch c := b[i]; {
			case c == '"':
				// Skip the string: to the next quote not escaped by an odd
				// run of backslashes.
				for {
					q := bytes.IndexByte(b[i+1:], '"')
					if q < 0 {
						return nil, false
					}
					i += q + 1
					k := i - 1
					for b[k] == '\\' {
						k--
					}
					if (i-1-k)%2 == 0 {
						break
					}
				}
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				if depth == 0 {
					break value
				}
				depth--
			case c == ',' && depth == 0:
				break value
			}
		}
		if i >= len(b) || i == start {
			return nil, false
		}
		out = append(out, member{key: string(key), value: b[start:i]})
		if b[i] == '}' {
			return out, i == len(b)-1
		}
		i++ // the comma
	}
}

// successBodyByMap is successBody the general way, for an encoding
// splitObject does not take apart.
func successBodyByMap(requestID string, raw []byte, resp any) ([]byte, error) {
	members := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, fmt.Errorf("response of type %T is not a JSON object: %w", resp, err)
	}
	if members == nil {
		members = map[string]json.RawMessage{}
	}
	id, _ := json.Marshal(requestID)
	members["RequestId"] = id
	return json.Marshal(struct {
		Response map[string]json.RawMessage `json:"Response"`
	}{members})
}

// writeAnswer sends an encoded answer; the API always answers HTTP 200.
func writeAnswer(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // a client that went away cannot be told
}

// newRequestID returns a random UUID version 4.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// writeJSON answers a /sandbox helper with JSON.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		s.log.Error("sandbox: encode helper answer", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]any{
		"Status":  "ok",
		"Service": partnerapi.Service,
		"Version": partnerapi.APIVersion,
		"Faults":  len(s.faults.list()),
	})
}

func (s *Server) serveOutbox(w http.ResponseWriter, r *http.Request) {
	out := s.world.Outbox()
	if out == nil {
		out = []OutboxMessage{}
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *Server) serveCredentials(w http.ResponseWriter, r *http.Request) {
	creds := s.world.Credentials()
	if creds == nil {
		creds = []Credential{}
	}
	s.writeJSON(w, http.StatusOK, creds)
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	data, contentType, ok := s.world.File(r.PathValue("name"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}
