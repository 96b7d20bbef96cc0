package keyring

import (
	"errors"
	"net/http/httptest"
	"testing"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
)

func TestCustomersOwnKey(t *testing.T) {
	ctx := t.Context()
	sb, err := sandbox.New(sandbox.Options{Seed: 21, Customers: 10, RateScale: 100})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	w := world{ep: Endpoint{Host: ts.Listener.Addr().String(), Scheme: "http"}, requests: sb.Requests, dist: sb.DemoDistributor().Credential}
	k, db := newKeyring(t, w, newWorld(t, 22), "")
	var cust sandbox.Credential
	for _, c := range sb.Credentials() {
		if c.Role == "customer" {
			cust = c
			break
		}
	}
	uin := itoa(cust.Uin)
	saves := 3 // audited attempts: two refused keys and the right one

	if _, err := k.ForCustomer(ctx, cust.Uin); !errors.Is(err, ErrNoCustomerKey) || apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("no key stored: %v", err)
	}
	// A partner's key is not a customer's: it may not read a customer's
	// own billing quota, so it is refused.
	if _, err := k.Save(ctx, audit.CommandLine(), Input{Kind: store.CredentialCustomer, SubagentUin: uin, SecretID: w.dist.SecretId, SecretKey: w.dist.SecretKey}); !errors.Is(err, ErrKeyRefused) {
		t.Fatalf("a distributor's key as a customer's: %v", err)
	}
	// Nor is a customer's key a distributor's.
	if _, err := k.Save(ctx, audit.CommandLine(), Input{Kind: store.CredentialDistributor, SecretID: cust.SecretId, SecretKey: cust.SecretKey}); !errors.Is(err, ErrKeyRefused) {
		t.Fatalf("a customer's key as the distributor's: %v", err)
	}
	if _, err := k.Save(ctx, audit.CommandLine(), Input{Kind: store.CredentialCustomer, SecretID: cust.SecretId, SecretKey: cust.SecretKey}); apperr.Fields(err)["subagent_uin"] == nil {
		t.Fatalf("a customer's key without its UIN: %v", err)
	}
	// Another customer's key, for this UIN: its vouchers give it away.
	for _, other := range sb.Credentials() {
		if other.Role != "customer" || other.Uin == cust.Uin {
			continue
		}
		oc, err := partnerapi.New(partnerapi.Config{Credential: partnerapi.Credential{SecretId: other.SecretId, SecretKey: other.SecretKey},
			Endpoint: w.ep.Host, Scheme: "http", Limiters: partnerapi.NewLimiters(100)})
		if err != nil {
			t.Fatal(err)
		}
		if own, err := oc.DescribeCustomerOwnVoucherList(ctx, &partnerapi.DescribeCustomerOwnVoucherListRequest{Page: 1, PageSize: 1}); err != nil || len(own.Data) == 0 {
			continue // nothing to tell it by
		}
		_, err = k.Save(ctx, audit.CommandLine(), Input{Kind: store.CredentialCustomer, SubagentUin: uin, SecretID: other.SecretId, SecretKey: other.SecretKey})
		if apperr.Fields(err)["subagent_uin"] == nil {
			t.Fatalf("customer %d's key stored as %s's: %v", other.Uin, uin, err)
		}
		saves++
		break
	}
	check, err := k.Save(ctx, audit.CommandLine(), Input{Kind: store.CredentialCustomer, SubagentUin: uin, SecretID: cust.SecretId, SecretKey: cust.SecretKey})
	if err != nil || check.RequestID == "" {
		t.Fatalf("the customer's own key: %+v %v", check, err)
	}
	if has, err := k.HasCustomerKey(ctx, cust.Uin); err != nil || !has {
		t.Fatalf("HasCustomerKey = %v, %v", has, err)
	}
	c, err := k.ForCustomer(ctx, cust.Uin)
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretID() != cust.SecretId {
		t.Errorf("the client acts with %s", partnerapi.MaskSecretID(c.SecretID()))
	}
	if _, err := c.QueryCustomerBillingQuota(ctx, &partnerapi.QueryCustomerBillingQuotaRequest{}); err != nil {
		t.Errorf("the customer's client: %v", err)
	}
	rows, _, err := db.QueryAudit(ctx, store.AuditFilter{Action: "credential.save", Limit: 10})
	if err != nil || len(rows) != saves || rows[0].Params["customer_uin"] != uin || rows[0].Params["kind"] != store.CredentialCustomer {
		t.Fatalf("audit %+v %v", rows, err)
	}
}
