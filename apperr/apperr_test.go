package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestFieldsAndKind(t *testing.T) {
	name := InvalidField("username", "users.bad_username")
	expiry := InvalidField("expires", "users.past_expiry")
	joined := fmt.Errorf("create user: %w", errors.Join(name, expiry, InvalidField("username", "users.taken")))

	cases := []struct {
		name   string
		err    error
		kind   Kind
		fields map[string]string
	}{
		{"none", errors.New("disk full"), 0, map[string]string{}},
		{"one", name, Invalid, map[string]string{"username": "users.bad_username"}},
		{"joined and wrapped", joined, Invalid, map[string]string{"username": "users.bad_username", "expires": "users.past_expiry"}},
		{"whole request", New(Conflict, "", "jobs.finished"), Conflict, map[string]string{"": "jobs.finished"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOf(tc.err); got != tc.kind {
				t.Fatalf("KindOf = %v, want %v", got, tc.kind)
			}
			got := Fields(tc.err)
			if len(got) != len(tc.fields) {
				t.Fatalf("Fields = %v, want %v", got, tc.fields)
			}
			for f, id := range tc.fields {
				if got[f] == nil || got[f].MessageID != id {
					t.Fatalf("field %q: %v, want %s", f, got[f], id)
				}
			}
		})
	}
}

func TestCauseKeptForLogs(t *testing.T) {
	cause := errors.New("database is locked")
	err := New(Busy, "", "error.busy").Because(cause)
	if !errors.Is(err, cause) {
		t.Fatal("the cause is lost")
	}
	busy := New(Busy, "", "error.busy")
	if !errors.Is(fmt.Errorf("sign in: %w", busy.Because(cause)), busy) || errors.Is(busy, New(Busy, "", "other")) {
		t.Fatal("copies do not match their original, or other messages do")
	}
	if err.Error() != "busy: error.busy: database is locked" {
		t.Fatalf("Error() = %q", err.Error())
	}
}
