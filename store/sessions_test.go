package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	user, err := WriteReturning(ctx, db, func(tx *Tx) (User, error) { return tx.CreateUser(ctx, User{Username: "alice", Role: "staff"}) })
	if err != nil {
		t.Fatal(err)
	}
	start := clock.Now()

	t.Run("create, read, update", func(t *testing.T) {
		id := SessionID("cookie-token-1")
		s := Session{ID: id, Data: []byte("anon"), ExpiresAt: start.Add(time.Hour), ClientAddr: "192.0.2.1", UserAgent: "test"}
		if err := createSession(ctx, db, s); err != nil {
			t.Fatal(err)
		}
		got, err := db.SessionByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.UserID != 0 || !bytes.Equal(got.Data, []byte("anon")) || !got.CreatedAt.Equal(start) ||
			!got.LastSeen.Equal(start) || got.ClientAddr != "192.0.2.1" || got.UserAgent != "test" {
			t.Errorf("SessionByID = %+v", got)
		}

		clock.Advance(time.Minute)
		s.UserID, s.Data, s.LastSeen = user.ID, []byte("logged in"), clock.Now()
		s.CreatedAt = clock.Now() // must not overwrite the original
		s.ExpiresAt = clock.Now().Add(24 * time.Hour)
		if err := updateSession(ctx, db, s); err != nil {
			t.Fatal(err)
		}
		got, err = db.SessionByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.UserID != user.ID || string(got.Data) != "logged in" || !got.CreatedAt.Equal(start) || !got.LastSeen.Equal(clock.Now()) ||
			!got.ExpiresAt.Equal(start.Add(time.Hour)) {
			t.Errorf("after update = %+v", got)
		}
		if err := createSession(ctx, db, s); !errors.Is(err, ErrConflict) {
			t.Errorf("creating an existing session: %v, want ErrConflict", err)
		}
	})

	t.Run("an ended session stays ended", func(t *testing.T) {
		// A request in flight when its session was ended saves it at the
		// end: that must not bring the session back.
		id := SessionID("ended")
		if err := createSession(ctx, db, Session{ID: id, UserID: user.ID, ExpiresAt: start.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteSession(ctx, id); err != nil {
			t.Fatal(err)
		}
		err := updateSession(ctx, db, Session{ID: id, UserID: user.ID, Data: []byte("flash"), LastSeen: clock.Now()})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("updating an ended session: %v, want ErrNotFound", err)
		}
		if _, err := db.SessionByID(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the ended session came back: %v", err)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		tests := []struct {
			name string
			s    Session
		}{
			{"raw token as id", Session{ID: "cookie-token-1", ExpiresAt: start.Add(time.Hour)}},
			{"no expiry", Session{ID: SessionID("x")}},
			{"unknown user", Session{ID: SessionID("y"), UserID: 9999, ExpiresAt: start.Add(time.Hour)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := createSession(ctx, db, tt.s); err == nil {
					t.Error("CreateSession succeeded")
				}
			})
		}
	})

	t.Run("not found", func(t *testing.T) {
		if _, err := db.SessionByID(ctx, SessionID("missing")); !errors.Is(err, ErrNotFound) {
			t.Errorf("SessionByID err = %v, want ErrNotFound", err)
		}
		if err := db.TouchSession(ctx, SessionID("missing"), clock.Now()); !errors.Is(err, ErrNotFound) {
			t.Errorf("TouchSession err = %v, want ErrNotFound", err)
		}
		if err := db.DeleteSession(ctx, SessionID("missing")); err != nil {
			t.Errorf("DeleteSession of a missing session: %v, want nil", err)
		}
	})

	t.Run("touch", func(t *testing.T) {
		id := SessionID("cookie-token-1")
		seen := clock.Now().Add(5 * time.Minute)
		if err := db.TouchSession(ctx, id, seen); err != nil {
			t.Fatal(err)
		}
		if got, err := db.SessionByID(ctx, id); err != nil || !got.LastSeen.Equal(seen) {
			t.Errorf("LastSeen = %v, %v; want %v", got.LastSeen, err, seen)
		}
	})

	t.Run("per user, newest first, delete others", func(t *testing.T) {
		var ids []string
		for _, token := range []string{"t2", "t3", "t4"} {
			clock.Advance(time.Second)
			id := SessionID(token)
			ids = append(ids, id)
			if err := createSession(ctx, db, Session{ID: id, UserID: user.ID, ExpiresAt: clock.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.SessionsForUser(ctx, user.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{ids[2], ids[1], ids[0], SessionID("cookie-token-1")}
		if len(got) != len(want) {
			t.Fatalf("SessionsForUser = %d sessions, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i] {
				t.Errorf("SessionsForUser[%d] = %.8s, want %.8s", i, got[i].ID, want[i])
			}
		}

		version := db.IdentityVersion()
		n, err := WriteReturning(ctx, db, func(tx *Tx) (int, error) { return tx.DeleteUserSessions(ctx, user.ID, ids[1]) })
		if db.IdentityVersion() == version {
			t.Error("ending sessions did not change the identity version")
		}
		if err != nil || n != 3 {
			t.Fatalf("DeleteUserSessions = %d, %v; want 3", n, err)
		}
		got, err = db.SessionsForUser(ctx, user.ID)
		if err != nil || len(got) != 1 || got[0].ID != ids[1] {
			t.Errorf("after DeleteUserSessions: %v, %v; want only the kept one", got, err)
		}
		if err := db.DeleteSession(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SessionByID(ctx, ids[1]); !errors.Is(err, ErrNotFound) {
			t.Errorf("after DeleteSession: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		now := clock.Now()
		sessions := []struct {
			token   string
			expires time.Time
		}{
			{"old", now.Add(-time.Hour)},
			{"just", now},
			{"fresh", now.Add(time.Hour)},
		}
		for _, s := range sessions {
			if err := createSession(ctx, db, Session{ID: SessionID(s.token), UserID: user.ID, ExpiresAt: s.expires}); err != nil {
				t.Fatal(err)
			}
		}
		// Expired sessions are invisible before cleanup removes them.
		if _, err := db.SessionByID(ctx, SessionID("old")); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired SessionByID err = %v, want ErrNotFound", err)
		}
		if got, err := db.SessionsForUser(ctx, user.ID); err != nil || len(got) != 1 {
			t.Errorf("SessionsForUser = %d, %v; want only the fresh one", len(got), err)
		}
		n, err := db.DeleteExpiredSessions(ctx, now)
		if err != nil || n != 2 {
			t.Fatalf("DeleteExpiredSessions = %d, %v; want 2", n, err)
		}
		var left int
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&left); err != nil || left != 1 {
			t.Errorf("sessions left = %d, %v; want 1", left, err)
		}
	})
}
