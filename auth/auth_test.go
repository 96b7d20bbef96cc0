package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestPasswordHashAndCheck(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(HasherOptions{Cost: TestCost})
	hash, err := h.Hash(ctx, "correct horse 42")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected hash format %q", hash)
	}
	other, _ := h.Hash(ctx, "correct horse 42")
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
		{"absurd memory", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5", "x", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Check(ctx, tc.hash, tc.password)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("Check = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	// A hash made at another cost is checked at the cost it names.
	prod := NewHasher(HasherOptions{Cost: Cost{MemoryKiB: 128, Time: 2, Threads: 2}})
	other, _ = prod.Hash(ctx, "tiger-lily-2026")
	if ok, err := h.Check(ctx, other, "tiger-lily-2026"); !ok || err != nil {
		t.Fatalf("a hash of another cost did not check: %v %v", ok, err)
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHasher(HasherOptions{Cost: TestCost, MemoryBudget: 64 << 10, MaxWait: time.Second})
		if h.Concurrency() != 1 {
			t.Fatalf("a budget of one hash allows %d at once", h.Concurrency())
		}
		// Hold the only slot: the next check waits, then is told the portal is busy.
		h.slots <- struct{}{}
		if _, err := h.Check(context.Background(), "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5", "x"); !errors.Is(err, ErrBusy) {
			t.Fatalf("Check with no slot free = %v, want ErrBusy", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := h.Dummy(ctx, "x"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Dummy with a cancelled context = %v", err)
		}
		<-h.slots
		if err := h.Dummy(context.Background(), "x"); err != nil {
			t.Fatalf("Dummy with a free slot: %v", err)
		}
	})
	if n := NewHasher(HasherOptions{}).Concurrency(); n < 1 || n > 2 {
		t.Fatalf("the production hasher runs %d hashes at once in 160 MiB, want 1 or 2", n)
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

// fail makes n attempts for username from addr that all fail.
func fail(t *testing.T, th *Throttle, username, addr string, n int) {
	t.Helper()
	for i := range n {
		a, _, ok := th.Begin(username, addr)
		if !ok {
			t.Fatalf("attempt %d of %s from %s refused early", i+1, username, addr)
		}
		a.Failed()
	}
}

func TestThrottleLocksAccounts(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(clock.now)
	fail(t, th, "bob", "10.0.0.1", AccountFree)
	_, wait, ok := th.Begin("bob", "10.0.0.1")
	if ok || wait != 30*time.Second {
		t.Fatalf("after %d failures: ok=%v wait=%v, want a 30 s lock", AccountFree, ok, wait)
	}
	// The account is locked from every address; other accounts are not.
	if _, _, ok := th.Begin("bob", "10.0.0.2"); ok {
		t.Fatal("a locked account may be tried from another address")
	}
	a, _, ok := th.Begin("carol", "10.0.0.1")
	if !ok {
		t.Fatal("another account was locked too")
	}
	a.Succeeded()
	// The lock lifts, and the next failure doubles it.
	clock.t = clock.t.Add(31 * time.Second)
	fail(t, th, "bob", "10.0.0.1", 1)
	if _, wait, _ := th.Begin("bob", "10.0.0.1"); wait != time.Minute {
		t.Fatalf("second lock %v, want 1m", wait)
	}
	clock.t = clock.t.Add(2 * time.Minute)
	a, _, ok = th.Begin("bob", "10.0.0.1")
	if !ok {
		t.Fatal("lock did not lift")
	}
	a.Succeeded()
	fail(t, th, "bob", "10.0.0.1", AccountFree-1)
	if _, _, ok := th.Begin("bob", "10.0.0.1"); !ok {
		t.Fatal("success did not clear the account")
	}
	// The lock never exceeds the maximum.
	for range 40 {
		clock.t = clock.t.Add(maxLock)
		if a, _, ok := th.Begin("mallory", "10.7.7.7"); ok {
			a.Failed()
		}
	}
	if _, wait, _ := th.Begin("mallory", "10.7.7.7"); wait > maxLock {
		t.Fatalf("lock of %v exceeds the maximum", wait)
	}
}

// TestThrottleSharedOffice: someone spraying user names from an office's
// gateway does not lock out the people behind it until the much higher
// address limit, which then stops the spray.
func TestThrottleSharedOffice(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(clock.now)
	for i := range AddressFree - 1 {
		fail(t, th, fmt.Sprintf("user%d", i), "203.0.113.9", 1)
	}
	a, _, ok := th.Begin("admin", "203.0.113.9")
	if !ok {
		t.Fatalf("the admin was locked out by %d failures of other names from the office", AddressFree-1)
	}
	a.Succeeded()
	fail(t, th, "user-last", "203.0.113.9", 1)
	if _, _, ok := th.Begin("someone-new", "203.0.113.9"); ok {
		t.Fatalf("an address that failed %d times may still try", AddressFree)
	}
	if _, _, ok := th.Begin("someone-new", "198.51.100.1"); !ok {
		t.Fatal("another address was locked too")
	}
}

func TestThrottleCountsBeforeChecking(t *testing.T) {
	th := NewThrottle(nil)
	var wg sync.WaitGroup
	var admitted atomic.Int64
	for range 20 {
		wg.Go(func() {
			if a, _, ok := th.Begin("victim", "10.0.0.1"); ok {
				admitted.Add(1)
				a.Failed()
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != AccountFree {
		t.Fatalf("%d of 20 concurrent guesses were let through to the password check, want %d", n, AccountFree)
	}
	// An attempt the portal could not serve counts against nobody.
	th2 := NewThrottle(nil)
	for range 2 * AccountFree {
		a, _, ok := th2.Begin("busy", "10.0.0.2")
		if !ok {
			t.Fatal("abandoned attempts locked the account")
		}
		a.Abandoned()
	}
}

func TestThrottleBurstsAndBounds(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(clock.now)
	fail(t, th, "bob", "10.0.0.1", AccountFree)
	for range 1000 {
		th.Begin("bob", "10.0.0.1")
	}
	th.Begin("BOB-the-second", "10.0.0.1") // let through: another account
	if got := th.TakeBursts(false); len(got) != 0 {
		t.Fatalf("a burst was handed out before its window ended: %+v", got)
	}
	clock.t = clock.t.Add(BurstWindow)
	got := th.TakeBursts(false)
	if len(got) != 1 || got[0].Addr != "10.0.0.1" || got[0].Count != 1000 {
		t.Fatalf("bursts %+v, want one of 1000 refusals from 10.0.0.1", got)
	}
	if len(got) == 1 && !slices.Equal(got[0].Names, []string{"bob"}) {
		t.Fatalf("burst names %q; only bob was refused", got[0].Names)
	}
	// Huge names are cut; the table stays bounded under a flood of names.
	huge := strings.Repeat("x", 1<<20)
	for i := range MaxEntries + 100 {
		if a, _, ok := th.Begin(fmt.Sprintf("%d%s", i, huge[:100]), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)); ok {
			a.Failed()
		}
	}
	if n := th.Size(); n > 2*MaxEntries+1 {
		t.Fatalf("the throttle holds %d entries, want at most %d", n, 2*MaxEntries+1)
	}
	for k := range th.entries {
		if len(k) > maxKeyLength+2 {
			t.Fatalf("a key of %d bytes is kept", len(k))
		}
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
