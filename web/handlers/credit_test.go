package handlers_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"

	"resellerportal/jobs"
	"resellerportal/partnerapi"
)

func TestCreditOverview(t *testing.T) {
	p := newPortal(t)
	ctx := t.Context()
	// One customer is taken down to a twentieth of its credit: past the
	// 10 % threshold.
	uins := p.directCustomers(5)
	low := uins[2]
	c, err := p.app.Keys.Distributor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	credit, err := c.QueryCreditByUinList(ctx, &partnerapi.QueryCreditByUinListRequest{UinList: []uint64{low}})
	if err != nil || len(credit.Data) != 1 {
		t.Fatalf("credit of %d: %v", low, err)
	}
	total, remaining := credit.Data[0].TotalCredit.Decimal(), credit.Data[0].RemainingCredit.Decimal()
	if !total.IsPositive() {
		// A customer without credit gets some first.
		if _, err := c.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{ClientUin: low, AddedCredit: partnerapi.AmountFromDecimal(decimal.NewFromInt(1000))}); err != nil {
			t.Fatal(err)
		}
		total, remaining = total.Add(decimal.NewFromInt(1000)), remaining.Add(decimal.NewFromInt(1000))
	}
	// A take-back lowers the credit and the available credit alike: taking
	// x leaves (remaining-x)/(total-x) = 5 % for x = (remaining - total/20) / 0.95.
	takeBack := remaining.Sub(total.Div(decimal.NewFromInt(20))).DivRound(decimal.RequireFromString("0.95"), 2).Neg()
	if _, err := c.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{ClientUin: low, AddedCredit: partnerapi.AmountFromDecimal(takeBack)}); err != nil {
		t.Fatal(err)
	}
	p.fillCustomers()
	if _, err := jobs.RefreshCustomer(ctx, c, p.db, low); err != nil {
		t.Fatal(err)
	}

	for _, role := range []string{"admin", "staff", "finance"} {
		t.Run(role, func(t *testing.T) {
			r := p.get(p.login(role), "/credit")
			if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "credit-partner-total")) != 1 {
				t.Fatalf("status %d, partner figures %d", r.StatusCode, len(byTestID(t, r.Body, "credit-partner-total")))
			}
			rows := byTestID(t, r.Body, "credit-row")
			if len(rows) == 0 {
				t.Fatal("no customers")
			}
			// The customer taken down is listed near the top (the lowest
			// available credit first), marked past the 10 % threshold.
			found := false
			for _, row := range rows {
				if attr(row, "data-uin") == strconv.FormatUint(low, 10) {
					found = true
					if attr(row, "data-level") != "2" {
						t.Errorf("customer %d at level %s, want 2 (10 %%)", low, attr(row, "data-level"))
					}
				}
			}
			if !found {
				t.Errorf("customer %d is not on the first page", low)
			}
			for _, row := range rows {
				n, _ := strconv.ParseUint(attr(row, "data-uin"), 10, 64)
				if p.row(n).ResellerUin != 0 {
					t.Errorf("%d is a reseller's customer, listed among the direct ones by default", n)
				}
			}
		})
	}

	t.Run("the watch filter keeps those past a threshold", func(t *testing.T) {
		for watch, want := range map[string]bool{"25": true, "10": true, "0": false} {
			r := p.get(p.login("staff"), "/credit?watch="+watch)
			found := false
			for _, row := range byTestID(t, r.Body, "credit-row") {
				found = found || attr(row, "data-uin") == strconv.FormatUint(low, 10)
				if level, _ := strconv.Atoi(attr(row, "data-level")); level == 0 {
					t.Errorf("watch %s lists %s, which is fine", watch, attr(row, "data-uin"))
				}
			}
			if found != want {
				t.Errorf("watch %s: customer %d listed %v, want %v", watch, low, found, want)
			}
		}
	})
	t.Run("a customer's page links to its credit line", func(t *testing.T) {
		staff := p.login("staff")
		page := p.get(staff, "/customers/"+strconv.FormatUint(low, 10))
		links := byTestID(t, page.Body, "customer-credit-link")
		if len(links) != 1 {
			t.Fatal("no link to the credit page")
		}
		r := p.get(staff, attr(links[0], "href"))
		if rows := byTestID(t, r.Body, "credit-row"); len(rows) != 1 || attr(rows[0], "data-uin") != strconv.FormatUint(low, 10) {
			t.Errorf("the link shows %d rows", len(rows))
		}
	})
	t.Run("a reseller's login sees its pool and its customers only", func(t *testing.T) {
		r := p.get(p.login("subagent"), "/credit")
		if r.StatusCode != http.StatusOK || len(byTestID(t, r.Body, "credit-partner")) != 1 {
			t.Fatalf("status %d", r.StatusCode)
		}
		for _, row := range byTestID(t, r.Body, "credit-row") {
			n, _ := strconv.ParseUint(attr(row, "data-uin"), 10, 64)
			if p.row(n).ResellerUin != p.subUin {
				t.Errorf("it sees %d", n)
			}
		}
		if r := p.get(p.login("subagent"), "/credit?reseller=direct"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("asking for the distributor's customers: %d", r.StatusCode)
		}
	})
	t.Run("htmx gets the list alone", func(t *testing.T) {
		r := p.htmx(p.login("staff"), http.MethodGet, "/credit?sort=credit&desc=1", nil)
		if r.StatusCode != http.StatusOK || len(byTag(t, r.Body, "nav")) != 0 || len(byTestID(t, r.Body, "credit-row")) == 0 {
			t.Errorf("fragment %d", r.StatusCode)
		}
	})
	for _, bad := range []string{"q=%01", "sort=secret", "page=0", "reseller=x", "watch=50"} {
		if r := p.get(p.login("staff"), "/credit?"+bad); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", bad, r.StatusCode)
		}
	}
}
