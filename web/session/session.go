// Package session keeps gorilla/sessions sessions on the server, in the
// portal's SQLite store: the browser's cookie carries only a signed random
// token, and the store knows the session by the token's SHA-256.
package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"resellerportal/store"
)

// userKey is the session value holding the signed-in user's id.
const userKey = "uid"

// Options configures a Store.
type Options struct {
	// Keys sign the cookie, newest first: the first signs, every one is
	// accepted, so a new key can be added in front and an old one removed
	// later without logging anyone out.
	Keys [][]byte
	// Secure marks the cookie Secure and names it with the __Host- prefix;
	// set it when the portal is served over TLS or behind a TLS proxy.
	Secure bool
	// IdleTimeout ends a session unused this long; 30 min when zero.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it began; 12 h when zero.
	AbsoluteTimeout time.Duration
	// TouchEvery is how often a session's last use is written; 1 min when
	// zero. The idle timeout is judged to within this.
	TouchEvery time.Duration
	// CacheFor is how long a session read from the database is trusted
	// without reading it again; 10 s when zero. A change made in this
	// process (a sign-out, a disabled user) is seen at once; one made by
	// another process (the command line) within this time.
	CacheFor time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// ErrEnded reports that a session was ended (signed out, ended by an admin,
// its user disabled or given a new password) while a request of it was
// under way; saving it does not bring it back.
var ErrEnded = errors.New("the session has ended")

// Store is a gorilla/sessions Store over the portal's database.
type Store struct {
	db     *store.DB
	codecs []securecookie.Codec
	opts   Options

	mu    sync.Mutex
	cache map[string]cachedRow // by store id
}

// cachedRow is a session as read, with the identity version it was read at.
type cachedRow struct {
	row     store.Session
	version uint64
	readAt  time.Time
}

// maxCached bounds the session cache.
const maxCached = 10000

// New returns a session store.
func New(db *store.DB, opts Options) (*Store, error) {
	if len(opts.Keys) == 0 {
		return nil, errors.New("session store: at least one signing key is needed")
	}
	var pairs [][]byte
	for _, k := range opts.Keys {
		if len(k) < 32 {
			return nil, errors.New("session store: signing keys must be at least 32 bytes")
		}
		pairs = append(pairs, k, nil) // signed, not encrypted: the value is a random token
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.AbsoluteTimeout <= 0 {
		opts.AbsoluteTimeout = 12 * time.Hour
	}
	if opts.TouchEvery <= 0 {
		opts.TouchEvery = time.Minute
	}
	if opts.CacheFor <= 0 {
		opts.CacheFor = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(opts.AbsoluteTimeout.Seconds()))
		}
	}
	return &Store{db: db, codecs: codecs, opts: opts, cache: map[string]cachedRow{}}, nil
}

// row reads a session, from the cache while nothing about users or sessions
// has changed since and it is recent enough.
func (s *Store) row(ctx context.Context, id string) (store.Session, error) {
	version := s.db.IdentityVersion()
	now := s.opts.Now()
	s.mu.Lock()
	c, ok := s.cache[id]
	s.mu.Unlock()
	if ok && c.version == version && now.Sub(c.readAt) < s.opts.CacheFor {
		return c.row, nil
	}
	row, err := s.db.SessionByID(ctx, id)
	if err != nil {
		s.forget(id)
		return store.Session{}, err
	}
	s.remember(row, version, now)
	return row, nil
}

func (s *Store) remember(row store.Session, version uint64, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) >= maxCached {
		for k := range s.cache {
			delete(s.cache, k)
			if len(s.cache) < maxCached*9/10 {
				break
			}
		}
	}
	s.cache[row.ID] = cachedRow{row: row, version: version, readAt: now}
}

func (s *Store) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cache, id)
}

// CookieName is the session cookie's name.
func (s *Store) CookieName() string {
	if s.opts.Secure {
		return "__Host-portal_session"
	}
	return "portal_session"
}

// Get returns the request's session, cached for the request.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie, or starts a new one
// when there is none or it has expired.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.cookieOptions()
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var token string
	if err := securecookie.DecodeMulti(name, c.Value, &token, s.codecs...); err != nil {
		return sess, nil // forged, stale key or garbled: start afresh
	}
	row, err := s.row(r.Context(), hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, fmt.Errorf("load session: %w", err)
	}
	now := s.opts.Now()
	if s.expired(row, now) {
		s.forget(row.ID)
		if err := s.db.DeleteSession(r.Context(), row.ID); err != nil {
			return sess, fmt.Errorf("delete expired session: %w", err)
		}
		return sess, nil
	}
	if err := gob.NewDecoder(bytes.NewReader(row.Data)).Decode(&sess.Values); err != nil && len(row.Data) > 0 {
		return sess, nil
	}
	sess.ID = token
	sess.IsNew = false
	return sess, nil
}

func (s *Store) expired(row store.Session, now time.Time) bool {
	return now.Sub(row.LastSeen) > s.opts.IdleTimeout || now.Sub(row.CreatedAt) > s.opts.AbsoluteTimeout ||
		(!row.ExpiresAt.IsZero() && now.After(row.ExpiresAt))
}

// Save writes the session and sets its cookie; a negative MaxAge deletes
// both. A session new to this request is created; an existing one is only
// updated, never re-created: when it was ended meanwhile, Save returns
// ErrEnded and clears the cookie.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			s.forget(hashToken(sess.ID))
			if err := s.db.DeleteSession(ctx, hashToken(sess.ID)); err != nil {
				return fmt.Errorf("delete session: %w", err)
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	now := s.opts.Now()
	row := store.Session{LastSeen: now, ClientAddr: clientAddr(r), UserAgent: truncate(r.UserAgent(), 300)}
	row.UserID, _ = sess.Values[userKey].(int64)
	var data bytes.Buffer
	if err := gob.NewEncoder(&data).Encode(sess.Values); err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	row.Data = data.Bytes()
	if sess.ID == "" {
		token, err := newToken()
		if err != nil {
			return err
		}
		row.ID, row.CreatedAt, row.ExpiresAt = hashToken(token), now, now.Add(s.opts.AbsoluteTimeout)
		if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.CreateSession(ctx, row) }); err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		sess.ID = token
	} else {
		row.ID = hashToken(sess.ID)
		err := s.db.WriteDetached(ctx, func(tx *store.Tx) error { return tx.UpdateSession(ctx, row) })
		if errors.Is(err, store.ErrNotFound) {
			s.forget(row.ID)
			expired := *sess.Options
			expired.MaxAge = -1
			http.SetCookie(w, sessions.NewCookie(sess.Name(), "", &expired))
			return ErrEnded
		}
		if err != nil {
			return fmt.Errorf("save session: %w", err)
		}
	}
	s.forget(row.ID)
	encoded, err := securecookie.EncodeMulti(sess.Name(), sess.ID, s.codecs...)
	if err != nil {
		return fmt.Errorf("sign session cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

// Renew gives the session a new id and drops the old one, as at login, so
// that an id planted before login is worth nothing after it.
func (s *Store) Renew(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.ID != "" {
		s.forget(hashToken(sess.ID))
		if err := s.db.DeleteSession(r.Context(), hashToken(sess.ID)); err != nil {
			return fmt.Errorf("renew session: %w", err)
		}
	}
	sess.ID = ""
	return s.Save(r, w, sess)
}

// Touch records that the session was used now, which keeps it from idling
// out; it writes at most once per TouchEvery. Background polling must not
// call it, so that an idle tab does not keep a session alive.
func (s *Store) Touch(ctx context.Context, sess *sessions.Session) error {
	if sess.ID == "" {
		return nil
	}
	id := hashToken(sess.ID)
	row, err := s.row(ctx, id)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	if now.Sub(row.LastSeen) < s.opts.TouchEvery {
		return nil
	}
	if err := s.db.TouchSession(ctx, id, now); err != nil {
		s.forget(id)
		return err
	}
	row.LastSeen = now
	s.remember(row, s.db.IdentityVersion(), now)
	return nil
}

// End deletes a session found to be no longer valid (its user disabled,
// expired or deleted).
func (s *Store) End(ctx context.Context, sess *sessions.Session) error {
	if sess.ID == "" {
		return nil
	}
	id := hashToken(sess.ID)
	s.forget(id)
	return s.db.DeleteSession(ctx, id)
}

// SetUser binds the session to a user id.
func SetUser(sess *sessions.Session, userID int64) { sess.Values[userKey] = userID }

// UserID returns the user a session is bound to, or 0.
func UserID(sess *sessions.Session) int64 {
	id, _ := sess.Values[userKey].(int64)
	return id
}

// StoreID returns the id under which the store keeps the session, the one
// store.SessionsForUser lists, so the current session can be told apart.
func StoreID(sess *sessions.Session) string {
	if sess.ID == "" {
		return ""
	}
	return hashToken(sess.ID)
}

func (s *Store) cookieOptions() *sessions.Options {
	return &sessions.Options{
		Path:     "/",
		MaxAge:   int(s.opts.AbsoluteTimeout.Seconds()),
		HttpOnly: true,
		Secure:   s.opts.Secure,
		SameSite: http.SameSiteLaxMode,
	}
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashToken(token string) string { return store.SessionID(token) }

// clientAddr is set by the portal's middleware from RemoteAddr (or a trusted
// proxy's header); here it is only recorded for the user's session list.
func clientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddrKey{}).(string); ok {
		return a
	}
	return r.RemoteAddr
}

type clientAddrKey struct{}

// WithClientAddr records the client's address in ctx for the session list.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
