package session_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"resellerportal/store"
	"resellerportal/web/session"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newStore(t *testing.T, db *store.DB, c *clock, secure bool, keys ...[]byte) *session.Store {
	t.Helper()
	s, err := session.New(db, session.Options{Keys: keys, Secure: secure, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openDB(t *testing.T, c *clock) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), t.TempDir()+"/s.db", store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Sessions belong to a user; user 7 is the only one.
	for i := int64(1); i <= 7; i++ {
		if _, err := store.WriteReturning(t.Context(), db, func(tx *store.Tx) (store.User, error) {
			return tx.CreateUser(t.Context(), store.User{Username: fmt.Sprintf("user%d", i), Role: "staff", PasswordHash: "x"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

var (
	oldKey = bytes.Repeat([]byte{1}, 32)
	newKey = bytes.Repeat([]byte{2}, 32)
)

// signIn saves a session bound to user 7 and returns its cookie.
func signIn(t *testing.T, s *session.Store) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	sess, err := s.Get(r, s.CookieName())
	if err != nil {
		t.Fatal(err)
	}
	session.SetUser(sess, 7)
	w := httptest.NewRecorder()
	if err := s.Renew(r, w, sess); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("%d cookies set", len(cookies))
	}
	return cookies[0]
}

// userOf loads the session a cookie names, with a fresh request.
func userOf(t *testing.T, s *session.Store, c *http.Cookie) int64 {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(c)
	sess, err := s.Get(r, s.CookieName())
	if err != nil {
		t.Fatal(err)
	}
	return session.UserID(sess)
}

func TestCookieCarriesOnlyASignedToken(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db := openDB(t, c)
	cases := []struct {
		secure bool
		name   string
	}{{false, "portal_session"}, {true, "__Host-portal_session"}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, db, c, tc.secure, newKey)
			ck := signIn(t, s)
			if ck.Name != tc.name || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure != tc.secure {
				t.Fatalf("cookie %+v", ck)
			}
			if strings.Contains(ck.Value, "uid") {
				t.Fatal("the cookie carries session data")
			}
			if got := userOf(t, s, ck); got != 7 {
				t.Fatalf("user %d, want 7", got)
			}
			forged := *ck
			forged.Value = ck.Value[:len(ck.Value)-2] + "xx"
			if got := userOf(t, s, &forged); got != 0 {
				t.Fatal("a forged cookie was accepted")
			}
		})
	}
}

func TestKeyRotationKeepsSessions(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db := openDB(t, c)
	before := signIn(t, newStore(t, db, c, false, oldKey))
	rotated := newStore(t, db, c, false, newKey, oldKey)
	if userOf(t, rotated, before) != 7 {
		t.Fatal("adding a new key logged the user out")
	}
	after := signIn(t, rotated)
	if userOf(t, newStore(t, db, c, false, newKey), after) != 7 {
		t.Fatal("new sessions are not signed with the new key")
	}
	if userOf(t, newStore(t, db, c, false, newKey), before) != 0 {
		t.Fatal("a removed key is still accepted")
	}
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	cases := []struct {
		name  string
		steps []time.Duration // time passing, each followed by a use of the session
		alive bool
	}{
		{"used within the idle time", []time.Duration{29 * time.Minute}, true},
		{"idle too long", []time.Duration{31 * time.Minute}, false},
		{"kept busy for eleven hours", repeat(20*time.Minute, 33), true},
		{"kept busy past twelve hours", repeat(20*time.Minute, 37), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			db := openDB(t, c)
			s := newStore(t, db, c, false, newKey)
			ck := signIn(t, s)
			alive := true
			for _, d := range tc.steps {
				c.now = c.now.Add(d)
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.AddCookie(ck)
				sess, err := s.Get(r, s.CookieName())
				if err != nil {
					t.Fatal(err)
				}
				if session.UserID(sess) == 0 {
					alive = false
					break
				}
				if err := s.Touch(t.Context(), sess); err != nil {
					t.Fatal(err)
				}
			}
			if alive != tc.alive {
				t.Fatalf("session alive = %v, want %v", alive, tc.alive)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestRenewDropsTheOldSession(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db := openDB(t, c)
	s := newStore(t, db, c, false, newKey)
	first := signIn(t, s)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(first)
	sess, _ := s.Get(r, s.CookieName())
	w := httptest.NewRecorder()
	if err := s.Renew(r, w, sess); err != nil {
		t.Fatal(err)
	}
	second := w.Result().Cookies()[0]
	if second.Value == first.Value || userOf(t, s, first) != 0 || userOf(t, s, second) != 7 {
		t.Fatal("renewal did not replace the session id")
	}
}

func TestNewRefusesWeakKeys(t *testing.T) {
	c := &clock{now: time.Now()}
	db := openDB(t, c)
	if _, err := session.New(db, session.Options{}); err == nil {
		t.Fatal("no key accepted")
	}
	if _, err := session.New(db, session.Options{Keys: [][]byte{[]byte("short")}}); err == nil {
		t.Fatal("a short key accepted")
	}
}

// TestSaveNeverRevivesAnEndedSession: a request in flight when its session
// was ended (signed out elsewhere, ended by an admin, its user disabled)
// saves the session at its end; that must not bring the session back, nor
// give it a fresh lifetime.
func TestSaveNeverRevivesAnEndedSession(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db := openDB(t, c)
	s := newStore(t, db, c, false, newKey)
	ck := signIn(t, s)

	// A slow request loads the session...
	slow := httptest.NewRequest(http.MethodPost, "/admin/credentials/1/test", nil)
	slow.AddCookie(ck)
	sess, err := s.Get(slow, s.CookieName())
	if err != nil || session.UserID(sess) != 7 {
		t.Fatalf("load: %v", err)
	}
	// ...meanwhile the session is ended...
	out := httptest.NewRequest(http.MethodPost, "/logout", nil)
	out.AddCookie(ck)
	ended, err := s.Get(out, s.CookieName())
	if err != nil {
		t.Fatal(err)
	}
	ended.Options.MaxAge = -1
	if err := ended.Save(out, httptest.NewRecorder()); err != nil {
		t.Fatal(err)
	}
	// ...and the slow request saves it (a flash message) at the end.
	c.now = c.now.Add(time.Hour)
	sess.Values["flash"] = "tested"
	w := httptest.NewRecorder()
	if err := sess.Save(slow, w); !errors.Is(err, session.ErrEnded) {
		t.Fatalf("saving an ended session: %v, want ErrEnded", err)
	}
	for _, set := range w.Result().Cookies() {
		if set.MaxAge >= 0 && set.Value != "" {
			t.Fatalf("the ended session's cookie was set again: %+v", set)
		}
	}
	if userOf(t, s, ck) != 0 {
		t.Fatal("the signed-out session came back")
	}
}

// TestTouchWritesAtMostOncePerInterval: a busy session is not written on
// every request, and the idle timeout still holds to within the interval.
func TestTouchWritesAtMostOncePerInterval(t *testing.T) {
	c := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db := openDB(t, c)
	s := newStore(t, db, c, false, newKey)
	ck := signIn(t, s)
	lastSeen := func() time.Time {
		list, err := db.SessionsForUser(t.Context(), 7)
		if err != nil || len(list) != 1 {
			t.Fatalf("sessions: %v %v", list, err)
		}
		return list[0].LastSeen
	}
	start := lastSeen()
	use := func() {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(ck)
		sess, err := s.Get(r, s.CookieName())
		if err != nil || session.UserID(sess) != 7 {
			t.Fatalf("the session ended: %v", err)
		}
		if err := s.Touch(t.Context(), sess); err != nil {
			t.Fatal(err)
		}
	}
	for range 50 {
		c.now = c.now.Add(time.Second)
		use()
	}
	if got := lastSeen(); !got.Equal(start) {
		t.Fatalf("50 requests within a minute wrote last-seen (%v, was %v)", got, start)
	}
	c.now = c.now.Add(15 * time.Second)
	use()
	if got := lastSeen(); !got.Equal(c.now) {
		t.Fatalf("after a minute last-seen is %v, want %v", got, c.now)
	}
}
