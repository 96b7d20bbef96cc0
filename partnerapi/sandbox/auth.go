package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"resellerportal/partnerapi"
)

// TC3-HMAC-SHA256 request signing, checked the way the published algorithm
// (API 3.0 "Signature v3") describes it.
const (
	signAlgorithm   = "TC3-HMAC-SHA256"
	scopeTerminator = "tc3_request"
	maxClockSkew    = 300 * time.Second
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// authorization is a parsed Authorization header.
type authorization struct {
	SecretId      string
	Date          string // credential scope date, YYYY-MM-DD
	Service       string // credential scope service
	Terminator    string // credential scope terminator, tc3_request
	SignedHeaders []string
	Signature     string
}

// parseAuthorization splits
// "TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=a;b, Signature=<hex>".
func parseAuthorization(h string) (authorization, *apiError) {
	var a authorization
	malformed := errorf("AuthFailure", "The Authorization header is malformed; expected %s Credential=<SecretId>/<date>/<service>/tc3_request, SignedHeaders=<headers>, Signature=<hex>.", signAlgorithm)
	if h == "" {
		return a, errorf("AuthFailure", "The request is not signed: the Authorization header is missing.")
	}
	rest, ok := strings.CutPrefix(h, signAlgorithm+" ")
	if !ok {
		return a, malformed
	}
	var credential, signedHeaders, signature string
	for part := range strings.SplitSeq(rest, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, malformed
		}
		switch key {
		case "Credential":
			credential = value
		case "SignedHeaders":
			signedHeaders = value
		case "Signature":
			signature = value
		default:
			return a, malformed
		}
	}
	if credential == "" || signedHeaders == "" || signature == "" {
		return a, malformed
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 4 {
		return a, malformed
	}
	a.SecretId, a.Date, a.Service, a.Terminator = scope[0], scope[1], scope[2], scope[3]
	a.SignedHeaders = strings.Split(signedHeaders, ";")
	a.Signature = signature
	return a, nil
}

// validSecretIdForm reports whether id looks like a Tencent Cloud SecretId:
// "AKID" followed by letters and digits, 36 characters in all.
func validSecretIdForm(id string) bool {
	if len(id) != 36 || !strings.HasPrefix(id, "AKID") {
		return false
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// authenticate checks the request's signature against the secret key of the
// SecretId it names and returns the caller behind it.
func (s *Server) authenticate(r *http.Request, body []byte) (Caller, *apiError) {
	auth, e := parseAuthorization(r.Header.Get("Authorization"))
	if e != nil {
		return Caller{}, e
	}
	if !validSecretIdForm(auth.SecretId) {
		return Caller{}, errorf("AuthFailure.InvalidSecretId", "The SecretId `%s` is not a valid key.", auth.SecretId)
	}
	caller, secretKey, ok := s.world.LookupSecret(auth.SecretId)
	if !ok {
		return Caller{}, errorf("AuthFailure.SecretIdNotFound", "The SecretId `%s` is not found; check that it exists and is enabled.", auth.SecretId)
	}
	tsHeader := r.Header.Get("X-TC-Timestamp")
	if tsHeader == "" {
		return Caller{}, errorf("MissingParameter", "The request is missing the X-TC-Timestamp header.")
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return Caller{}, errorf("InvalidParameter", "X-TC-Timestamp must be a Unix time in seconds, got %q.", tsHeader)
	}
	now := s.now().Unix()
	if skew := now - ts; skew > int64(maxClockSkew/time.Second) || skew < -int64(maxClockSkew/time.Second) {
		return Caller{}, errorf("AuthFailure.SignatureExpire",
			"The signature has expired: X-TC-Timestamp %d differs from the server time %d by more than 5 minutes.", ts, now)
	}
	if auth.Service != partnerapi.Service || auth.Terminator != scopeTerminator {
		return Caller{}, errorf("AuthFailure.SignatureFailure",
			"The credential scope `%s/%s/%s` does not name the service %s.", auth.Date, auth.Service, auth.Terminator, partnerapi.Service)
	}
	if auth.Date != time.Unix(ts, 0).UTC().Format(time.DateOnly) {
		return Caller{}, errorf("AuthFailure.SignatureFailure",
			"The credential scope date %s is not the UTC date of X-TC-Timestamp %d.", auth.Date, ts)
	}
	if !signedHeadersCover(auth.SignedHeaders) {
		return Caller{}, errorf("AuthFailure.SignatureFailure", "SignedHeaders must include content-type and host.")
	}
	key := s.keys.get(secretKey, auth.Date, auth.Service)
	if !signatureMatches(r, body, auth, tsHeader, key) {
		return Caller{}, errorf("AuthFailure.SignatureFailure",
			"The provided credentials could not be validated: the signature does not match. Check the SecretKey and how the request is signed.")
	}
	return caller, nil
}

func signedHeadersCover(names []string) bool {
	var contentType, host bool
	for _, n := range names {
		switch strings.ToLower(n) {
		case "content-type":
			contentType = true
		case "host":
			host = true
		}
	}
	return contentType && host
}

// signatureMatches rebuilds the canonical request from what was received and
// compares signatures in constant time. The published algorithm lower-cases
// header values; the official SDKs sign them as sent (lower-case anyway for
// content-type and host). Both forms are accepted. So are both forms of the
// host: the Go SDK signs the Host header as sent, port included, while the
// Node.js SDK signs the host name without the port; on the real service,
// always on port 443, the two are the same.
func signatureMatches(r *http.Request, body []byte, auth authorization, timestamp string, key []byte) bool {
	payloadHash := sha256Hex(body)
	if r.Header.Get("X-TC-Content-SHA256") == unsignedPayload {
		payloadHash = sha256Hex([]byte(unsignedPayload))
	}
	given := []byte(auth.Signature)
	ok := false
	tried := map[string]bool{}
	for _, host := range signableHosts(r.Host) {
		for _, lower := range []bool{false, true} {
			canonical := canonicalRequest(r, host, auth.SignedHeaders, payloadHash, lower)
			if tried[canonical] {
				continue
			}
			tried[canonical] = true
			// Every form is checked, so the time taken does not say which matched.
			ok = hmac.Equal(given, []byte(signature(key, timestamp, auth, canonical))) || ok
		}
	}
	return ok
}

// signableHosts returns the host values a client may have signed for a
// request that arrived with the Host header host: the header itself and,
// when it carries a port, the host name alone (an IPv6 address keeps its
// brackets, as a URL's hostname does).
func signableHosts(host string) []string {
	name, _, err := net.SplitHostPort(host)
	if err != nil || name == "" {
		return []string{host}
	}
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	return []string{host, name}
}

// canonicalRequest is method, URI "/", query as sent, canonical headers
// (with host as the host header's value), signed headers and the payload
// hash, one per line.
func canonicalRequest(r *http.Request, host string, signed []string, payloadHash string, lowerValues bool) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteString("\n/\n")
	b.WriteString(r.URL.RawQuery)
	b.WriteString("\n")
	names := make([]string, len(signed))
	for i, n := range signed {
		names[i] = strings.ToLower(strings.TrimSpace(n))
		var v string
		if names[i] == "host" {
			v = host
		} else {
			v = strings.Join(r.Header.Values(names[i]), ",")
		}
		v = strings.TrimSpace(v)
		if lowerValues {
			v = strings.ToLower(v)
		}
		b.WriteString(names[i])
		b.WriteString(":")
		b.WriteString(v)
		b.WriteString("\n")
	}
	b.WriteString("\n")
	b.WriteString(strings.Join(names, ";"))
	b.WriteString("\n")
	b.WriteString(payloadHash)
	return b.String()
}

func signature(key []byte, timestamp string, auth authorization, canonical string) string {
	stringToSign := signAlgorithm + "\n" + timestamp + "\n" +
		auth.Date + "/" + auth.Service + "/" + scopeTerminator + "\n" + sha256Hex([]byte(canonical))
	return hex.EncodeToString(hmacSHA256(key, stringToSign))
}

// signingKeys remembers the signing keys derived lately: a key serves every
// request of its credential for a day, and deriving it takes three HMACs.
type signingKeys struct {
	mu   sync.Mutex
	keys map[signingScope][]byte
}

type signingScope struct{ secretKey, date, service string }

// maxSigningKeys bounds the cache; it starts over when full.
const maxSigningKeys = 1024

// get returns signingKey(secretKey, date, service), derived once.
func (c *signingKeys) get(secretKey, date, service string) []byte {
	scope := signingScope{secretKey, date, service}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keys[scope]; ok {
		return k
	}
	if c.keys == nil || len(c.keys) >= maxSigningKeys {
		c.keys = make(map[signingScope][]byte)
	}
	k := signingKey(secretKey, date, service)
	c.keys[scope] = k
	return k
}

func signingKey(secretKey, date, service string) []byte {
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerminator)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
