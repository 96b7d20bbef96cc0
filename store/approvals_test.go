package store

import (
	"errors"
	"testing"
	"time"
)

func TestApprovalRequests(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	user := func(name string) User {
		u, err := WriteReturning(ctx, db, func(tx *Tx) (User, error) {
			return tx.CreateUser(ctx, User{Username: name, Role: "staff", PasswordHash: "x"})
		})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	ann, bob := user("ann"), user("bob")
	add := func(a ApprovalRequest) ApprovalRequest {
		t.Helper()
		out, err := WriteReturning(ctx, db, func(tx *Tx) (ApprovalRequest, error) { return tx.AddApprovalRequest(ctx, a) })
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	now := clock.Now()
	first := add(ApprovalRequest{RequestedBy: ann.ID, RequestedByName: "ann", Title: "Suspend", Intents: `[1]`, Params: `{}`, Holds: "suspension",
		CustomerUin: 42, Writes: 1, ExpiresAt: now.Add(time.Hour)})
	second := add(ApprovalRequest{RequestedBy: ann.ID, RequestedByName: "ann", OnBehalfOf: 7, Title: "Allocate", Intents: `[2]`, Params: `{}`,
		Holds: "over_limit", Writes: 3, Amount: "1500.5", ExpiresAt: now.Add(2 * time.Hour)})

	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.AddApprovalRequest(ctx, ApprovalRequest{RequestedBy: ann.ID, Intents: `[]`})
		return err
	}); err == nil {
		t.Error("a request without writes or expiry was stored")
	}
	if id, err := WriteReturning(ctx, db, func(tx *Tx) (int64, error) {
		return tx.PendingApprovalFor(ctx, ann.ID, `[1]`, `{}`, clock.Now())
	}); err != nil || id != first.ID {
		t.Errorf("the same writes again: %d, %v", id, err)
	}
	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.PendingApprovalFor(ctx, bob.ID, `[1]`, `{}`, clock.Now())
		return err
	}); !errors.Is(err, ErrNotFound) {
		t.Errorf("another person's writes: %v", err)
	}

	decide := func(id int64, from, to string) error {
		return db.Write(ctx, func(tx *Tx) error { return tx.DecideApprovalRequest(ctx, id, from, to, bob.ID, "bob", "") })
	}
	if err := decide(first.ID, ApprovalPending, ApprovalApproved); err != nil {
		t.Fatal(err)
	}
	if err := decide(first.ID, ApprovalPending, ApprovalRejected); !errors.Is(err, ErrConflict) {
		t.Errorf("deciding twice: %v", err)
	}
	use := func(id int64) error {
		return db.Write(ctx, func(tx *Tx) error { return tx.UseApprovalRequest(ctx, id) })
	}
	if err := use(second.ID); !errors.Is(err, ErrConflict) {
		t.Errorf("using a pending request: %v", err)
	}
	if err := use(first.ID); err != nil {
		t.Fatal(err)
	}
	if err := use(first.ID); !errors.Is(err, ErrConflict) {
		t.Errorf("using twice: %v", err)
	}
	got, err := db.ApprovalRequestByID(ctx, first.ID)
	if err != nil || got.State != ApprovalUsed || got.DecidedBy != bob.ID || got.DecidedAt.IsZero() || got.CustomerUin != 42 {
		t.Fatalf("after use: %+v %v", got, err)
	}

	if n, err := db.CountPendingApprovalRequests(ctx, nil, clock.Now()); err != nil || n != 1 {
		t.Errorf("pending: %d %v", n, err)
	}
	behalf := uint64(7)
	if rows, total, err := db.ListApprovalRequests(ctx, ApprovalFilter{OnBehalfOf: &behalf}); err != nil || total != 1 || rows[0].ID != second.ID {
		t.Errorf("a reseller's: %d %v", total, err)
	}
	clock.Advance(3 * time.Hour)
	expired, err := WriteReturning(ctx, db, func(tx *Tx) ([]ApprovalRequest, error) { return tx.ExpireApprovalRequests(ctx, clock.Now()) })
	if err != nil || len(expired) != 1 || expired[0].ID != second.ID || expired[0].State != ApprovalExpired {
		t.Fatalf("expired %+v %v", expired, err)
	}
	rows, total, err := db.ListApprovalRequests(ctx, ApprovalFilter{States: []string{ApprovalExpired, ApprovalUsed}, RequestedBy: ann.ID})
	if err != nil || total != 2 || rows[0].ID != second.ID {
		t.Errorf("list %d %v", total, err)
	}
	if _, err := db.ApprovalRequestByID(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}
