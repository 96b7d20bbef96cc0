package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPasswordHashAndCheck(t *testing.T) {
	hash, err := HashPassword("correct horse 42")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("unexpected hash format %q", hash)
	}
	other, _ := HashPassword("correct horse 42")
	if other == hash {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	cases := []struct {
		name, hash, password string
		want                 bool
		wantErr              bool
	}{
		{"right", hash, "correct horse 42", true, false},
		{"wrong", hash, "correct horse 43", false, false},
		{"empty", hash, "", false, false},
		{"not argon2id", "$2a$12$abcdefghijklmnopqrstuv", "x", false, true},
		{"truncated", hash[:len(hash)-50], "correct horse 42", false, true},
		{"garbage", "garbage", "x", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckPassword(tc.hash, tc.password)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("CheckPassword = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	cases := []struct {
		user, pw string
		ok       bool
	}{
		{"alice", "short1", false},
		{"alice", "abcdefghijklmnop", false},
		{"alice", "1234567890123", false},
		{"alice1234567", "alice1234567", false},
		{"alice", "tiger-lily-2026", true},
		{"alice", "密码是很长的密码密码密码1", true},
	}
	for _, tc := range cases {
		t.Run(tc.pw, func(t *testing.T) {
			err := ValidatePassword(tc.user, tc.pw)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrWeakPassword)) {
				t.Fatalf("ValidatePassword(%q) = %v, want ok=%v", tc.pw, err, tc.ok)
			}
		})
	}
	for range 50 {
		pw, err := RandomPassword(16)
		if err != nil || len(pw) != 16 || ValidatePassword("admin", pw) != nil {
			t.Fatalf("random password %q fails the policy: %v", pw, err)
		}
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestThrottle(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(clock.now)
	for i := range 5 {
		if ok, _ := th.Check("bob", "10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused before the limit", i+1)
		}
		th.Failed("bob", "10.0.0.1")
	}
	ok, wait := th.Check("bob", "10.0.0.1")
	if ok || wait != 30*time.Second {
		t.Fatalf("after 5 failures: ok=%v wait=%v, want a 30 s lock", ok, wait)
	}
	// Another account from another address is unaffected.
	if ok, _ := th.Check("carol", "10.0.0.2"); !ok {
		t.Fatal("another account was locked too")
	}
	// The lock lifts, and the next failure doubles it.
	clock.t = clock.t.Add(31 * time.Second)
	if ok, _ := th.Check("bob", "10.0.0.1"); !ok {
		t.Fatal("lock did not lift")
	}
	th.Failed("bob", "10.0.0.1")
	if _, wait := th.Check("bob", "10.0.0.1"); wait != time.Minute {
		t.Fatalf("second lock %v, want 1m", wait)
	}
	th.Succeeded("bob")
	clock.t = clock.t.Add(2 * time.Minute)
	if ok, _ := th.Check("bob", "10.0.0.1"); !ok {
		t.Fatal("success did not clear the account")
	}
	// Spraying many accounts from one address locks the address.
	for i := range 20 {
		th.Failed("user"+string(rune('a'+i)), "10.9.9.9")
	}
	if ok, _ := th.Check("someone-new", "10.9.9.9"); ok {
		t.Fatal("an address that failed 20 times may still try")
	}
	// The lock never exceeds the maximum.
	for range 40 {
		th.Failed("mallory", "10.7.7.7")
	}
	if _, wait := th.Check("mallory", "10.7.7.7"); wait > 15*time.Minute {
		t.Fatalf("lock of %v exceeds the maximum", wait)
	}
}

func TestRolePermissions(t *testing.T) {
	cases := []struct {
		role Role
		perm Permission
		want bool
	}{
		{RoleAdmin, ManageUsers, true},
		{RoleStaff, ManageUsers, false},
		{RoleFinance, ManageUsers, false},
		{RoleSubagent, ManageUsers, false},
		{RoleAdmin, ManageCredentials, true},
		{RoleStaff, ManageCredentials, false},
		{RoleStaff, WriteCredit, true},
		{RoleFinance, WriteCredit, false},
		{RoleFinance, WriteCustomers, false},
		{RoleFinance, ViewAudit, true},
		{RoleStaff, ViewAudit, false},
		{RoleSubagent, ViewAudit, false},
		{RoleFinance, Export, true},
		{RoleSubagent, ViewSubagents, false},
		{RoleSubagent, ViewCommission, false},
		{RoleSubagent, WriteCredit, true},
		{Role("root"), ViewDashboard, false},
	}
	for _, tc := range cases {
		t.Run(string(tc.role)+" "+string(tc.perm), func(t *testing.T) {
			if got := tc.role.Can(tc.perm); got != tc.want {
				t.Fatalf("%s can %s = %v, want %v", tc.role, tc.perm, got, tc.want)
			}
		})
	}
	if _, err := ParseRole("root"); err == nil {
		t.Fatal("unknown role parsed")
	}
}

type owners map[uint64]uint64

func (o owners) CustomerOwner(_ context.Context, uin uint64) (uint64, error) {
	owner, ok := o[uin]
	if !ok {
		return 0, ErrUnknownCustomer
	}
	return owner, nil
}

func TestAuthorizeCustomer(t *testing.T) {
	o := owners{100: 0, 200: 9001, 300: 9002}
	staff := Principal{Role: RoleStaff}
	sub := Principal{Role: RoleSubagent, SubagentUin: 9001}
	unbound := Principal{Role: RoleSubagent}
	cases := []struct {
		name string
		p    Principal
		uin  uint64
		ok   bool
	}{
		{"staff direct", staff, 100, true},
		{"staff indirect", staff, 200, true},
		{"staff stranger", staff, 999, false},
		{"subagent own", sub, 200, true},
		{"subagent other reseller's", sub, 300, false},
		{"subagent distributor's direct", sub, 100, false},
		{"subagent stranger", sub, 999, false},
		{"subagent without reseller", unbound, 100, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := AuthorizeCustomer(context.Background(), tc.p, tc.uin, o)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrForbidden)) {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
