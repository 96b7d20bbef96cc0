package store

import (
	"errors"
	"testing"
	"time"
)

func TestInvitations(t *testing.T) {
	db, clock, _ := openTestDB(t)
	ctx := t.Context()
	add := func(inv Invitation) (Invitation, error) {
		return WriteReturning(ctx, db, func(tx *Tx) (Invitation, error) { return tx.AddInvitation(ctx, inv) })
	}
	first, err := add(Invitation{Token: "t1", Link: "https://x/?RegisterToken=t1", Email: "Ann@Example.com", Role: InvitationClient, SentByName: "olga"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := add(Invitation{Token: "t2", Email: "ann@example.com", Role: InvitationClient, SentByName: "olga"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := add(Invitation{Token: "t3", Email: "bob@example.com", Role: InvitationSubAgent, PartnerUin: 42, SentByName: "sub"}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		inv  Invitation
		want error
	}{
		{"duplicate token", Invitation{Token: "t1", Email: "c@example.com", Role: InvitationClient}, ErrConflict},
		{"no token", Invitation{Email: "c@example.com", Role: InvitationClient}, nil},
		{"bad role", Invitation{Token: "t9", Email: "c@example.com", Role: "Boss"}, nil},
	} {
		_, err := add(tc.inv)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: err = %v, want a refusal (%v)", tc.name, err, tc.want)
		}
	}

	list, total, err := db.ListInvitations(ctx, InvitationFilter{})
	if err != nil || total != 2 || len(list) != 2 || list[0].Token != "t2" || list[1].Token != "t1" {
		t.Fatalf("distributor's invitations = %+v, %d, %v; want t2, t1", list, total, err)
	}
	if list[1].Link != first.Link || !list[1].CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("stored %+v, want %+v", list[1], first)
	}
	if list, total, _ := db.ListInvitations(ctx, InvitationFilter{PartnerUin: 42}); total != 1 || list[0].Token != "t3" {
		t.Errorf("reseller 42's invitations = %+v", list)
	}
	if _, total, _ := db.ListInvitations(ctx, InvitationFilter{Email: "ANN@example.com"}); total != 2 {
		t.Errorf("to ann: %d, want 2 (any case)", total)
	}
	last, err := db.LastInvitationTo(ctx, 0, " ann@EXAMPLE.com ")
	if err != nil || last.Token != "t2" {
		t.Errorf("LastInvitationTo = %+v, %v; want t2", last, err)
	}
	if _, err := db.LastInvitationTo(ctx, 42, "ann@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another partner's address: %v, want ErrNotFound", err)
	}
	if got, err := db.InvitationByID(ctx, first.ID); err != nil || got.Token != "t1" {
		t.Errorf("InvitationByID = %+v, %v", got, err)
	}
	if _, err := db.InvitationByID(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}
