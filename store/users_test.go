package store

import (
	"errors"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()

	alice, err := WriteReturning(ctx, db, func(tx *Tx) (User, error) {
		return tx.CreateUser(ctx, User{Username: "Alice", DisplayName: "Alice A.", Role: "admin",
			PasswordHash: "hash-1", Locale: "en"})
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if alice.ID == 0 || !alice.CreatedAt.Equal(clock.Now()) || !alice.PasswordChangedAt.Equal(clock.Now()) {
		t.Errorf("created user = %+v, want an id and timestamps from the clock", alice)
	}
	if !alice.ExpiresAt.IsZero() || alice.Disabled {
		t.Errorf("created user = %+v, want no expiry and enabled", alice)
	}

	t.Run("create", func(t *testing.T) {
		tests := []struct {
			name    string
			user    User
			wantErr error
		}{
			{"same name", User{Username: "Alice", Role: "staff"}, ErrConflict},
			{"other case", User{Username: "aLiCe", Role: "staff"}, ErrConflict},
			{"non-ASCII case", User{Username: "émile", Role: "staff"}, nil},
			{"non-ASCII other case", User{Username: "ÉMILE", Role: "staff"}, ErrConflict},
			{"subagent with UIN and expiry", User{Username: "bob", Role: "subagent", SubagentUin: 100012345678,
				ExpiresAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := WriteReturning(ctx, db, func(tx *Tx) (User, error) { return tx.CreateUser(ctx, tt.user) })
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("CreateUser err = %v, want %v", err, tt.wantErr)
				}
				if err != nil {
					return
				}
				back, err := db.UserByID(ctx, got.ID)
				if err != nil {
					t.Fatal(err)
				}
				if back != got {
					t.Errorf("UserByID = %+v, want %+v", back, got)
				}
				if back.SubagentUin != tt.user.SubagentUin || !back.ExpiresAt.Equal(tt.user.ExpiresAt) {
					t.Errorf("stored uin/expiry = %d/%v, want %d/%v", back.SubagentUin, back.ExpiresAt,
						tt.user.SubagentUin, tt.user.ExpiresAt)
				}
			})
		}
	})

	t.Run("invalid role is not a conflict", func(t *testing.T) {
		_, err := WriteReturning(ctx, db, func(tx *Tx) (User, error) { return tx.CreateUser(ctx, User{Username: "mallory", Role: "root"}) })
		if err == nil || errors.Is(err, ErrConflict) {
			t.Errorf("CreateUser with role root: err = %v, want a non-conflict error", err)
		}
	})

	t.Run("lookup", func(t *testing.T) {
		tests := []struct {
			username string
			wantID   int64
			wantErr  error
		}{
			{"Alice", alice.ID, nil},
			{"ALICE", alice.ID, nil},
			{"alice", alice.ID, nil},
			{"nobody", 0, ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.username, func(t *testing.T) {
				got, err := db.UserByUsername(ctx, tt.username)
				if !errors.Is(err, tt.wantErr) || got.ID != tt.wantID {
					t.Errorf("UserByUsername = %d, %v; want %d, %v", got.ID, err, tt.wantID, tt.wantErr)
				}
			})
		}
		if _, err := db.UserByID(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserByID(9999) err = %v, want ErrNotFound", err)
		}
	})

	t.Run("list and count", func(t *testing.T) {
		users, err := db.ListUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range users {
			names = append(names, u.Username)
		}
		want := []string{"Alice", "bob", "émile"}
		if len(names) != len(want) {
			t.Fatalf("ListUsers = %v, want %v", names, want)
		}
		for i := range want {
			if names[i] != want[i] {
				t.Fatalf("ListUsers = %v, want %v", names, want)
			}
		}
		if n, err := db.CountUsers(ctx); err != nil || n != len(want) {
			t.Errorf("CountUsers = %d, %v; want %d", n, err, len(want))
		}
	})

	t.Run("update", func(t *testing.T) {
		clock.Advance(time.Hour)
		expires := clock.Now().Add(30 * 24 * time.Hour)
		changed := alice
		changed.DisplayName, changed.Role, changed.SubagentUin, changed.ExpiresAt, changed.Locale =
			"Alice B.", "finance", 42, expires, "zh-CN"
		changed.Username, changed.PasswordHash, changed.Disabled = "ignored", "ignored", true
		got, err := WriteReturning(ctx, db, func(tx *Tx) (User, error) { return tx.UpdateUser(ctx, changed) })
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != "Alice B." || got.Role != "finance" || got.SubagentUin != 42 ||
			!got.ExpiresAt.Equal(expires) {
			t.Errorf("UpdateUser = %+v, want the new fields", got)
		}
		if got.Locale != "en" {
			t.Errorf("UpdateUser overwrote the user's own language choice: %q", got.Locale)
		}
		if got.Username != "Alice" || got.PasswordHash != "hash-1" || got.Disabled {
			t.Errorf("UpdateUser changed username/password/disabled: %+v", got)
		}
		if !got.UpdatedAt.Equal(clock.Now()) || !got.CreatedAt.Equal(alice.CreatedAt) {
			t.Errorf("timestamps = created %v updated %v", got.CreatedAt, got.UpdatedAt)
		}
		if _, err := WriteReturning(ctx, db, func(tx *Tx) (User, error) { return tx.UpdateUser(ctx, User{ID: 9999, Role: "staff"}) }); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateUser(9999) err = %v, want ErrNotFound", err)
		}
	})

	t.Run("set locale changes nothing else", func(t *testing.T) {
		// A language choice read from a stale copy of the user must not undo
		// an admin's change made meanwhile (the lost update this replaced).
		before, err := db.UserByID(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetLocale(ctx, alice.ID, "zh-CN") }); err != nil {
			t.Fatal(err)
		}
		got, err := db.UserByID(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Locale != "zh-CN" || got.Role != before.Role || got.DisplayName != before.DisplayName ||
			got.SubagentUin != before.SubagentUin || !got.ExpiresAt.Equal(before.ExpiresAt) {
			t.Errorf("after SetLocale: %+v, before %+v", got, before)
		}
		err = db.Write(ctx, func(tx *Tx) error { return tx.SetLocale(ctx, 9999, "en") })
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("SetLocale(9999) err = %v, want ErrNotFound", err)
		}
	})

	t.Run("set password", func(t *testing.T) {
		clock.Advance(time.Minute)
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetPassword(ctx, alice.ID, "hash-2", true) }); err != nil {
			t.Fatal(err)
		}
		got, err := db.UserByID(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.PasswordHash != "hash-2" || !got.PasswordChangedAt.Equal(clock.Now()) {
			t.Errorf("after SetPassword: hash %q changed %v", got.PasswordHash, got.PasswordChangedAt)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetPassword(ctx, 9999, "x", false) }); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetPassword(9999) err = %v, want ErrNotFound", err)
		}
	})

	t.Run("disabling deletes sessions", func(t *testing.T) {
		bob, err := db.UserByUsername(ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		expires := clock.Now().Add(time.Hour)
		for i, uid := range []int64{alice.ID, alice.ID, bob.ID} {
			s := Session{ID: SessionID(string(rune('a' + i))), UserID: uid, ExpiresAt: expires}
			if err := createSession(ctx, db, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetDisabled(ctx, alice.ID, true) }); err != nil {
			t.Fatal(err)
		}
		got, err := db.UserByID(ctx, alice.ID)
		if err != nil || !got.Disabled {
			t.Fatalf("after disabling: %+v, %v", got, err)
		}
		if s, err := db.SessionsForUser(ctx, alice.ID); err != nil || len(s) != 0 {
			t.Errorf("alice's sessions after disabling = %d, %v; want none", len(s), err)
		}
		if s, err := db.SessionsForUser(ctx, bob.ID); err != nil || len(s) != 1 {
			t.Errorf("bob's sessions = %d, %v; want 1 (untouched)", len(s), err)
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetDisabled(ctx, alice.ID, false) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.UserByID(ctx, alice.ID); got.Disabled {
			t.Error("still disabled after re-enabling")
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetDisabled(ctx, 9999, true) }); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetDisabled(9999) err = %v, want ErrNotFound", err)
		}
	})
}
