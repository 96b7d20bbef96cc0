package keyring

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

// world is a sandbox standing in for one target, with its credentials.
type world struct {
	ep       Endpoint
	dist     partnerapi.Credential
	sub      partnerapi.Credential
	subUin   uint64
	requests func(string) int
}

func newWorld(t *testing.T, seed int64) world {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: seed, Customers: 10, RateScale: 100})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	sub := sb.DemoSubAgent()
	return world{ep: Endpoint{Host: ts.Listener.Addr().String(), Scheme: "http"}, requests: sb.Requests,
		dist: sb.DemoDistributor().Credential, sub: sub.Credential, subUin: sub.Uin}
}

func newKeyring(t *testing.T, sb, tencent world, forced Target) (*Keyring, *store.DB) {
	t.Helper()
	db, err := store.Open(t.Context(), t.TempDir()+"/portal.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := NewSealer(bytes.Repeat([]byte{5}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	sbEp := sb.ep
	sbEp.Fallback = sb.dist
	k, err := New(t.Context(), Options{
		DB: db, Sealer: sealer, Client: partnerapi.Config{Limiters: partnerapi.NewLimiters(100)},
		TencentCloud: tencent.ep, Sandbox: func() (Endpoint, error) { return sbEp, nil }, Forced: forced,
	})
	if err != nil {
		t.Fatal(err)
	}
	return k, db
}

var admin = audit.Actor{Principal: auth.Principal{UserID: 1, Username: "root", Role: auth.RoleAdmin}, Addr: "192.0.2.1"}

func TestSaveTestsTheKeyFirst(t *testing.T) {
	sb, tencent := newWorld(t, 1), newWorld(t, 2)
	k, db := newKeyring(t, sb, tencent, "")
	ctx := t.Context()
	if k.Target() != Sandbox {
		t.Fatalf("with nothing configured the target is %s, want the sandbox", k.Target())
	}
	working, err := k.Distributor(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A wrong SecretKey is refused with the API's answer and stored nowhere.
	_, err = k.Save(ctx, admin, Input{Kind: "distributor", SecretID: sb.dist.SecretId, SecretKey: "wrong"})
	if !errors.Is(err, ErrKeyRefused) || partnerapi.ErrorCode(err) == "" {
		t.Fatalf("a wrong key: %v, want ErrKeyRefused with the API's code", err)
	}
	if list, _ := k.List(ctx, admin); len(list) != 0 {
		t.Fatalf("a refused key was stored: %+v", list)
	}
	if c, _ := k.Distributor(ctx); c != working {
		t.Fatal("a refused key replaced the working one")
	}
	// A reseller's own key that works is stored for the current target and used at once.
	if _, err := k.Save(ctx, admin, Input{Kind: "subagent", SubagentUin: itoa(sb.subUin), SecretID: sb.sub.SecretId, SecretKey: sb.sub.SecretKey}); err != nil {
		t.Fatal(err)
	}
	c, own, err := k.ForSubagent(ctx, sb.subUin)
	if err != nil || !own || c.SecretID() != sb.sub.SecretId {
		t.Fatalf("the reseller's key is not used at once: own=%v %v", own, err)
	}
	rows, _, err := db.QueryAudit(ctx, store.AuditFilter{Action: "credential.save"})
	if err != nil || len(rows) != 2 || rows[1].Outcome != store.OutcomeFailed || rows[0].Outcome != store.OutcomeOK {
		t.Fatalf("audit rows %+v, %v; want the refusal and the save", rows, err)
	}
	for _, r := range rows {
		if strings.Contains(r.Params["secret_id"], sb.sub.SecretId[4:]) || r.Params["secret_key"] != "" {
			t.Fatalf("an audit row holds a secret: %v", r.Params)
		}
	}

	// Form rules.
	cases := []struct {
		in    Input
		field string
	}{
		{Input{Kind: "root", SecretID: "a", SecretKey: "b"}, "kind"},
		{Input{Kind: "distributor", SecretKey: "b"}, "secret_id"},
		{Input{Kind: "distributor", SecretID: "a"}, "secret_key"},
		{Input{Kind: "subagent", SecretID: "a", SecretKey: "b"}, "subagent_uin"},
		{Input{Kind: "distributor", SubagentUin: "5", SecretID: "a", SecretKey: "b"}, "subagent_uin"},
		{Input{Kind: "distributor", SecretID: strings.Repeat("a", 1000), SecretKey: "b"}, "secret_id"},
	}
	for _, tc := range cases {
		if _, err := k.Save(ctx, admin, tc.in); apperr.Fields(err)[tc.field] == nil {
			t.Errorf("Save(%.60v) = %v, want a problem with %s", tc.in, err, tc.field)
		}
	}
	staff := admin
	staff.Role = "staff"
	if _, err := k.List(ctx, staff); apperr.KindOf(err) != apperr.Forbidden {
		t.Fatalf("staff listed keys: %v", err)
	}
}

func TestTargetIsAnExplicitSetting(t *testing.T) {
	sb, tencent := newWorld(t, 1), newWorld(t, 2)
	k, db := newKeyring(t, sb, tencent, "")
	ctx := t.Context()
	// Tencent Cloud needs a working key first.
	if err := k.SetTarget(ctx, admin, TencentCloud); apperr.KindOf(err) != apperr.Invalid {
		t.Fatalf("switching without a key: %v", err)
	}
	// A key saved while on the sandbox is the sandbox's: the target stays.
	if _, err := k.Save(ctx, admin, Input{Kind: "distributor", SecretID: sb.dist.SecretId, SecretKey: sb.dist.SecretKey}); err != nil {
		t.Fatal(err)
	}
	if k.Target() != Sandbox {
		t.Fatal("saving a key switched the target")
	}
	// Store Tencent Cloud's key as an operator would, then switch: it is tested, and used at once.
	sealer, _ := NewSealer(bytes.Repeat([]byte{5}, KeySize))
	sealed, _ := sealer.Seal(tencent.dist.SecretKey, tencent.dist.SecretId)
	err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.SaveCredential(ctx, store.APICredential{Target: store.TargetTencentCloud, Kind: "distributor", SecretId: tencent.dist.SecretId, SecretKeyCipher: sealed})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	before := tencent.requests("QueryPartnerCredit")
	if err := k.SetTarget(ctx, admin, TencentCloud); err != nil {
		t.Fatal(err)
	}
	if tencent.requests("QueryPartnerCredit") != before+1 {
		t.Fatal("the switch did not test the key")
	}
	c, err := k.Distributor(ctx)
	if err != nil || c.SecretID() != tencent.dist.SecretId {
		t.Fatalf("after the switch the distributor is %v, %v", c.SecretID(), err)
	}
	// The setting survives a restart.
	k2, _ := newKeyringOn(t, db, sb, tencent)
	if k2.Target() != TencentCloud {
		t.Fatalf("after a restart the target is %s", k2.Target())
	}
	// A forced sandbox refuses the switch.
	kf, _ := newKeyring(t, sb, tencent, Sandbox)
	if err := kf.SetTarget(ctx, admin, TencentCloud); apperr.KindOf(err) != apperr.Conflict {
		t.Fatalf("switching a forced target: %v", err)
	}
}

func newKeyringOn(t *testing.T, db *store.DB, sb, tencent world) (*Keyring, error) {
	sealer, _ := NewSealer(bytes.Repeat([]byte{5}, KeySize))
	sbEp := sb.ep
	sbEp.Fallback = sb.dist
	return New(context.Background(), Options{DB: db, Sealer: sealer, Client: partnerapi.Config{Limiters: partnerapi.NewLimiters(100)},
		TencentCloud: tencent.ep, Sandbox: func() (Endpoint, error) { return sbEp, nil }})
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
