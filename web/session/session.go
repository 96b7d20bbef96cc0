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
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Store is a gorilla/sessions Store over the portal's database.
type Store struct {
	db     *store.DB
	codecs []securecookie.Codec
	opts   Options
}

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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(opts.AbsoluteTimeout.Seconds()))
		}
	}
	return &Store{db: db, codecs: codecs, opts: opts}, nil
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
	row, err := s.db.SessionByID(r.Context(), hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, fmt.Errorf("load session: %w", err)
	}
	now := s.opts.Now()
	if s.expired(row, now) {
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

// Save writes the session and sets its cookie; a negative MaxAge deletes both.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.db.DeleteSession(r.Context(), hashToken(sess.ID)); err != nil {
				return fmt.Errorf("delete session: %w", err)
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	now := s.opts.Now()
	row := store.Session{LastSeen: now, ClientAddr: clientAddr(r), UserAgent: truncate(r.UserAgent(), 300)}
	if sess.ID == "" {
		token, err := newToken()
		if err != nil {
			return err
		}
		sess.ID = token
		row.CreatedAt = now
	} else {
		old, err := s.db.SessionByID(r.Context(), hashToken(sess.ID))
		switch {
		case err == nil:
			row.CreatedAt = old.CreatedAt
		case errors.Is(err, store.ErrNotFound):
			row.CreatedAt = now
		default:
			return fmt.Errorf("save session: %w", err)
		}
	}
	row.ID = hashToken(sess.ID)
	row.ExpiresAt = row.CreatedAt.Add(s.opts.AbsoluteTimeout)
	row.UserID, _ = sess.Values[userKey].(int64)
	var data bytes.Buffer
	if err := gob.NewEncoder(&data).Encode(sess.Values); err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	row.Data = data.Bytes()
	if err := s.db.SaveSession(r.Context(), row); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
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
		if err := s.db.DeleteSession(r.Context(), hashToken(sess.ID)); err != nil {
			return fmt.Errorf("renew session: %w", err)
		}
	}
	sess.ID = ""
	return s.Save(r, w, sess)
}

// Touch records that the session was used now, which keeps it from idling out.
func (s *Store) Touch(ctx context.Context, sess *sessions.Session) error {
	if sess.ID == "" {
		return nil
	}
	return s.db.TouchSession(ctx, hashToken(sess.ID), s.opts.Now())
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
