package users

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// env is a users service over a real database and the sandbox.
type env struct {
	svc      *Service
	db       *store.DB
	admin    audit.Actor
	reseller uint64 // a real second-level reseller of the sandbox's distributor
	clock    *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

type distributor struct{ c *partnerapi.Client }

func (d distributor) Distributor(context.Context) (*partnerapi.Client, error) { return d.c, nil }

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	clk := &clock{t: time.Now().UTC()}
	db, err := store.Open(ctx, t.TempDir()+"/portal.db", store.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sb, err := sandbox.New(sandbox.Options{Seed: 3, Customers: 20, RateScale: 100})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	e := &env{db: db, clock: clk, reseller: sb.DemoSubAgent().Uin}
	client, err := partnerapi.New(partnerapi.Config{Credential: sb.DemoDistributor().Credential, Endpoint: ts.Listener.Addr().String(), Scheme: "http",
		Limiters: partnerapi.NewLimiters(100), AttemptTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = New(Options{DB: db, Hasher: auth.NewHasher(auth.HasherOptions{Cost: auth.TestCost}),
		Resellers: PartnerResellers{Clients: distributor{client}}, Now: clk.now})
	created, _, err := e.svc.EnsureFirstAdmin(ctx, "")
	if err != nil || !created {
		t.Fatalf("first admin: %v %v", created, err)
	}
	admin, err := db.UserByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	e.admin = audit.UserActor(admin, "192.0.2.1")
	return e
}

// fieldErrors names each field's message id in err.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	for f, e := range apperr.Fields(err) {
		out[f] = e.MessageID
	}
	return out
}

func TestCreateChecksEveryRule(t *testing.T) {
	e := newEnv(t)
	today := e.clock.now().Format(time.DateOnly)
	yesterday := e.clock.now().AddDate(0, 0, -1).Format(time.DateOnly)
	cases := []struct {
		name string
		in   Input
		want map[string]string // field → message id; empty: created
	}{
		{"staff", Input{Username: "sam", Role: "staff"}, nil},
		{"subagent of a real reseller, until today", Input{Username: "rita", Role: "subagent", SubagentUin: itoa(e.reseller), Expires: today}, nil},
		{"bad name", Input{Username: "x", Role: "staff"}, map[string]string{"username": "users.bad_username"}},
		{"name with spaces", Input{Username: "sam smith", Role: "staff"}, map[string]string{"username": "users.bad_username"}},
		{"huge name", Input{Username: strings.Repeat("a", 10000), Role: "staff"}, map[string]string{"username": "users.bad_username"}},
		{"taken, whatever the case", Input{Username: "ADMIN", Role: "staff"}, map[string]string{"username": "users.taken"}},
		{"no role", Input{Username: "ann", Role: "root"}, map[string]string{"role": "users.bad_role"}},
		{"subagent without reseller", Input{Username: "ann", Role: "subagent"}, map[string]string{"subagent_uin": "users.subagent_needs_uin"}},
		{"reseller for staff", Input{Username: "ann", Role: "staff", SubagentUin: "123"}, map[string]string{"subagent_uin": "users.uin_only_subagent"}},
		{"reseller not a number", Input{Username: "ann", Role: "subagent", SubagentUin: "12x"}, map[string]string{"subagent_uin": "users.bad_uin"}},
		{"reseller UIN 123", Input{Username: "ann", Role: "subagent", SubagentUin: "123"}, map[string]string{"subagent_uin": "users.unknown_reseller"}},
		{"expiry in the past", Input{Username: "ann", Role: "staff", Expires: yesterday}, map[string]string{"expires": "users.past_expiry"}},
		{"expiry not a date", Input{Username: "ann", Role: "staff", Expires: "31/12/2030"}, map[string]string{"expires": "users.bad_expiry"}},
		{"display name with a newline", Input{Username: "ann", Role: "staff", DisplayName: "Ann\nAdmin"}, map[string]string{"display_name": "users.bad_display_name"}},
		{"every field wrong at once", Input{Username: "!", Role: "subagent", Expires: "soon"},
			map[string]string{"username": "users.bad_username", "subagent_uin": "users.subagent_needs_uin", "expires": "users.bad_expiry"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, password, err := e.svc.Create(t.Context(), e.admin, tc.in)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if ok, _ := e.svc.hasher.Check(t.Context(), u.PasswordHash, password); !ok {
					t.Fatal("the one-time password does not open the account")
				}
				return
			}
			if got := fieldErrors(err); !equalMaps(got, tc.want) {
				t.Fatalf("Create errors %v, want %v (err %v)", got, tc.want, err)
			}
		})
	}
	// Only admins (and the console) create users.
	staff, _ := e.db.UserByUsername(t.Context(), "sam")
	if _, _, err := e.svc.Create(t.Context(), audit.UserActor(staff, "x"), Input{Username: "eve", Role: "admin"}); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("a staff member created a user: %v", err)
	}
	if _, _, err := e.svc.Create(t.Context(), audit.CommandLine(), Input{Username: "olga", Role: "finance"}); err != nil {
		t.Fatalf("the command line could not create a user: %v", err)
	}
}

func TestAdminsCannotLockThemselvesOut(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.svc.Update(ctx, e.admin, e.admin.UserID, Input{Role: "staff"}); fieldErrors(err)["role"] != "users.own_role" {
		t.Fatalf("own role change: %v", err)
	}
	if _, err := e.svc.SetDisabled(ctx, e.admin, e.admin.UserID, true); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("own disable: %v", err)
	}
	if _, err := e.svc.Get(ctx, e.admin, 9999); apperr.KindOf(err) != apperr.NotFound {
		t.Fatalf("Get of nobody: %v", err)
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u, password, err := e.svc.Create(ctx, e.admin, Input{Username: "sam", Role: "staff"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.SignIn(ctx, "SAM", password, "10.0.0.1")
	if err != nil || got.ID != u.ID {
		t.Fatalf("SignIn with the right password: %v %v", got.Username, err)
	}
	for _, tc := range []struct{ name, user, pw string }{
		{"wrong password", "sam", "wrong-password-1"},
		{"unknown user", "nobody", password},
		{"huge user name", strings.Repeat("n", 1<<20), password},
	} {
		if _, err := e.svc.SignIn(ctx, tc.user, tc.pw, "10.0.0.2"); !errors.Is(err, ErrSignInFailed) {
			t.Errorf("%s: %v, want ErrSignInFailed", tc.name, err)
		}
	}
	// A disabled or expired account is a failed sign-in like any other.
	if _, err := e.svc.SetDisabled(ctx, e.admin, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SignIn(ctx, "sam", password, "10.0.0.3"); !errors.Is(err, ErrSignInFailed) {
		t.Fatalf("a disabled user signed in: %v", err)
	}
	entries, _, err := e.db.QueryAudit(ctx, store.AuditFilter{Action: "login.failed"})
	if err != nil || len(entries) != 4 {
		t.Fatalf("%d login.failed rows (%v), want 4", len(entries), err)
	}
	for _, en := range entries {
		if len(en.Actor) > 3*audit.MaxNameLength+3 {
			t.Fatalf("a failed sign-in recorded a name of %d bytes", len(en.Actor))
		}
	}
}

func TestSignInAuditedWhenTheClientHangsUp(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.svc.SignIn(ctx, "admin", "not-the-password-1", "10.0.0.9")
	if err == nil {
		t.Fatal("signed in with a wrong password")
	}
	entries, _, err := e.db.QueryAudit(t.Context(), store.AuditFilter{Action: "login.failed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("a failed sign-in whose client hung up left %d audit rows, want 1", len(entries))
	}
}

func TestConcurrentGuessesAreCheckedAtMostTheAllowedNumber(t *testing.T) {
	e := newEnv(t)
	var failed, throttledN atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := e.svc.SignIn(t.Context(), "admin", "wrong-password-1", "10.1.1.1")
			switch apperr.KindOf(err) {
			case apperr.Invalid:
				failed.Add(1)
			case apperr.Throttled:
				throttledN.Add(1)
			default:
				t.Errorf("unexpected %v", err)
			}
		})
	}
	wg.Wait()
	if failed.Load() != auth.AccountFree || throttledN.Load() != 20-auth.AccountFree {
		t.Fatalf("%d checked and %d throttled of 20 concurrent guesses, want %d checked", failed.Load(), throttledN.Load(), auth.AccountFree)
	}
	// The refusals become one audit row for the address, with their count.
	if err := e.svc.RecordRefusals(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	rows, _, err := e.db.QueryAudit(t.Context(), store.AuditFilter{Action: "login.throttled"})
	if err != nil || len(rows) != 1 || rows[0].Params["attempts"] != itoa(uint64(20-auth.AccountFree)) || rows[0].ClientAddr != "10.1.1.1" {
		t.Fatalf("throttled rows %+v (%v), want one with the count", rows, err)
	}
}

func TestChangeOwnPasswordIsThrottledAndAudited(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u, password, err := e.svc.Create(ctx, e.admin, Input{Username: "sam", Role: "staff"})
	if err != nil {
		t.Fatal(err)
	}
	sam := audit.UserActor(u, "10.0.0.5")
	for range auth.AccountFree {
		if err := e.svc.ChangeOwnPassword(ctx, sam, "guess-guess-1", "new-password-42", "new-password-42", ""); fieldErrors(err)["current"] != "account.wrong_password" {
			t.Fatalf("wrong current password: %v", err)
		}
	}
	if err := e.svc.ChangeOwnPassword(ctx, sam, password, "new-password-42", "new-password-42", ""); apperr.KindOf(err) != apperr.Throttled {
		t.Fatalf("after %d wrong guesses: %v, want throttled", auth.AccountFree, err)
	}
	rows, _, err := e.db.QueryAudit(ctx, store.AuditFilter{Action: "password.change"})
	if err != nil || len(rows) != auth.AccountFree {
		t.Fatalf("%d password.change rows (%v), want %d failures", len(rows), err, auth.AccountFree)
	}
	e.clock.mu.Lock()
	e.clock.t = e.clock.t.Add(time.Hour)
	e.clock.mu.Unlock()
	for _, tc := range []struct {
		next, confirm, field string
	}{
		{"new-password-42", "other-password-42", "confirm"},
		{"short", "short", "new"},
	} {
		if err := e.svc.ChangeOwnPassword(ctx, sam, password, tc.next, tc.confirm, ""); fieldErrors(err)[tc.field] == "" {
			t.Fatalf("%q/%q: %v, want a problem with %s", tc.next, tc.confirm, err, tc.field)
		}
	}
	if err := e.svc.ChangeOwnPassword(ctx, sam, password, "new-password-42", "new-password-42", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SignIn(ctx, "sam", "new-password-42", "10.0.0.5"); err != nil {
		t.Fatalf("the new password does not work: %v", err)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestOneTimePasswordsMustBeChanged(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u, password, err := e.svc.Create(ctx, e.admin, Input{Username: "sam", Role: "staff"})
	if err != nil || !u.MustChangePassword {
		t.Fatalf("a new user need not change the one-time password: %v", err)
	}
	sam := audit.UserActor(u, "10.0.0.5")
	if err := e.svc.ChangeOwnPassword(ctx, sam, password, "sams-own-password-1", "sams-own-password-1", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.db.UserByID(ctx, u.ID); got.MustChangePassword {
		t.Fatal("choosing a password did not clear the flag")
	}
	if _, err := e.svc.ResetPassword(ctx, e.admin, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.db.UserByID(ctx, u.ID); !got.MustChangePassword {
		t.Fatal("a reset password need not be changed")
	}
	if admin, _ := e.db.UserByUsername(ctx, "admin"); !admin.MustChangePassword {
		t.Fatal("the first admin's printed password need not be changed")
	}
}

func TestTimeZone(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, tc := range []struct {
		zone string
		ok   bool
	}{
		{"Asia/Shanghai", true},
		{"", true},
		{"Mars/Olympus_Mons", false},
		{"Local", false},
		{strings.Repeat("A", 200), false},
	} {
		err := e.svc.SetTimeZone(ctx, e.admin, tc.zone)
		if (err == nil) != tc.ok {
			t.Errorf("SetTimeZone(%.20q) = %v, want ok %v", tc.zone, err, tc.ok)
		}
	}
	if u, _ := e.db.UserByID(ctx, e.admin.UserID); u.TimeZone != "" {
		t.Fatalf("time zone %q after the last good choice (\"\")", u.TimeZone)
	}
	if TimeZone("Asia/Shanghai").String() != "Asia/Shanghai" || TimeZone("nonsense") != time.UTC || TimeZone("") != time.UTC {
		t.Fatal("TimeZone does not fall back to UTC")
	}
}
