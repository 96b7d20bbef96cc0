package sandbox

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"resellerportal/partnerapi"
)

// Tests of the places where the sandbox answers as the published examples
// and documentation say production does, through the client.

func TestCustomerDataAsPublished(t *testing.T) {
	r := newAPIRig(t, Options{})
	c := r.distributor(t)
	ctx := t.Context()
	list, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	uins := make([]int64, 0, len(list.Data))
	for _, d := range list.Data {
		uins = append(uins, int64(d.ClientUin))
	}
	full := map[uint64]string{}
	for chunk := range slices.Chunk(uins, 20) {
		info, err := c.DescribeCustomerInfo(ctx, &partnerapi.DescribeCustomerInfoRequest{CustomerUin: chunk})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range info.Data {
			uin, err := strconv.ParseUint(d.CustomerUin, 10, 64)
			if err != nil {
				t.Fatalf("CustomerUin %q: %v", d.CustomerUin, err)
			}
			full[uin] = d.Email
		}
	}
	masked := regexp.MustCompile(`^([^*@]{1,4})\*{9}@(.+)$`)
	for _, d := range list.Data {
		if d.Type != "new" {
			t.Errorf("customer %d: Type %q, want \"new\" as in the published example", d.ClientUin, d.Type)
		}
		if d.Arrears != "-" {
			t.Errorf("customer %d: Arrears %q, want \"-\"", d.ClientUin, d.Arrears)
		}
		m := masked.FindStringSubmatch(d.Email)
		addr := full[d.ClientUin]
		if m == nil || !strings.HasPrefix(addr, m[1]) || !strings.HasSuffix(addr, "@"+m[2]) || d.Email == addr {
			t.Errorf("customer %d: Email %q is not %q masked as in the published example", d.ClientUin, d.Email, addr)
		}
	}
}

func TestMasks(t *testing.T) {
	tests := []struct {
		fn   func(string) string
		in   string
		want string
	}{
		{maskCustomerMail, "abcdefg@tencent.com", "abcd*********@tencent.com"},
		{maskCustomerMail, "abcdefghijk@tencent.com", "abcd*********@tencent.com"},
		{maskCustomerMail, "bob@example.com", "bo*********@example.com"},
		{maskCustomerMail, "x@example.com", "x*********@example.com"},
		{maskInvitationMail, "12345678@gmail.com", "1**********8@gmail.com"},
		{maskInvitationMail, "a@gmail.com", "a**********@gmail.com"},
		{maskMobile, "18812341234", "188****1234"},
		{maskMobile, "61234567", "61****67"},
		{maskMobile, "123", "****"},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestZeroCreditSuspends sets a customer's available credit to 0 and back:
// DescribeCustomerInfo shows the suspension (AccountStatus 2) in between,
// while Force keeps what ForceQN set.
func TestZeroCreditSuspends(t *testing.T) {
	r := newAPIRig(t, Options{})
	c := r.distributor(t)
	ctx := t.Context()
	var cust partnerapi.QueryCustomersCreditData
	for d, err := range c.AllQueryCustomersCredit(ctx, partnerapi.QueryCustomersCreditRequest{}) {
		if err != nil {
			t.Fatal(err)
		}
		if d.RemainingCredit.Decimal().IsPositive() && d.Force == 0 {
			cust = d
			break
		}
	}
	if cust.ClientUin == 0 {
		t.Fatal("no customer with available credit")
	}
	status := func() (accountStatus string, force int64, remaining decimal.Decimal) {
		t.Helper()
		info, err := c.DescribeCustomerInfo(ctx, &partnerapi.DescribeCustomerInfoRequest{CustomerUin: []int64{int64(cust.ClientUin)}})
		if err != nil {
			t.Fatal(err)
		}
		list, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{FilterType: "ClientUin", Filter: fmt.Sprint(cust.ClientUin), Page: 1, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		return info.Data[0].AccountStatus, list.Data[0].Force, list.Data[0].RemainingCredit.Decimal()
	}
	allocate := func(added decimal.Decimal) {
		t.Helper()
		if _, err := c.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{ClientUin: cust.ClientUin, AddedCredit: partnerapi.AmountFromDecimal(added)}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		do     func()
		status string
		force  int64
	}{
		{"before", func() {}, "0", 0},
		{"available credit set to 0", func() { _, _, rem := status(); allocate(rem.Neg()) }, "2", 0},
		{"forced suspension lifted, credit still 0", func() {
			if _, err := c.ForceQN(ctx, &partnerapi.ForceQNRequest{ClientUin: cust.ClientUin, Type: 0}); err != nil {
				t.Fatal(err)
			}
		}, "2", 0},
		{"credit added back", func() { allocate(decimal.NewFromInt(25)) }, "0", 0},
		{"forced suspension", func() {
			if _, err := c.ForceQN(ctx, &partnerapi.ForceQNRequest{ClientUin: cust.ClientUin, Type: 2}); err != nil {
				t.Fatal(err)
			}
		}, "2", 2},
	}
	for _, s := range steps {
		s.do()
		st, force, rem := status()
		if st != s.status || force != s.force {
			t.Errorf("%s: AccountStatus %s, Force %d (available %s); want %s, %d", s.name, st, force, rem, s.status, s.force)
		}
	}
}

func TestShapesAsPublished(t *testing.T) {
	r := newAPIRig(t, Options{})
	ctx := t.Context()
	for _, p := range []DemoPartner{r.srv.DemoDistributor(), r.srv.DemoSubAgent()} {
		c := r.client(t, p.Credential)
		cust, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{Page: 1, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		uin := cust.Data[0].ClientUin
		if _, err := c.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{ClientUin: uin, AddedCredit: partnerapi.MustAmount("1.5")}); err != nil {
			t.Fatal(err)
		}
		hist, err := c.QueryCreditAllocationHistory(ctx, &partnerapi.QueryCreditAllocationHistoryRequest{ClientUin: uin, Page: 1, PageSize: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hist.History {
			if h.Operator != p.Name {
				t.Errorf("allocation by %d: Operator %q, want the partner's name %q", p.Uin, h.Operator, p.Name)
			}
		}
		fq, err := c.ForceQN(ctx, &partnerapi.ForceQNRequest{ClientUin: uin, Type: 2})
		if err != nil || fq.RequestId == "" || fq.C != 0 || fq.M != "" { //nolint:staticcheck // checking that the deprecated members stay empty
			t.Errorf("ForceQN answered %+v, %v; want only a RequestId", fq, err)
		}
	}
}

// TestForceQNAnswersOnlyRequestId checks the wire form of the answer.
func TestForceQNAnswersOnlyRequestId(t *testing.T) {
	clock := &fakeClock{t: testNow}
	s := newTestServer(t, clock.Now, 1000)
	dist := credentialFor(t, s, "distributor", 0)
	uin := s.world.distributor.customers[0]
	a := serve(t, s, signedCall{Action: "ForceQN", Body: fmt.Sprintf(`{"ClientUin":%d,"Type":2}`, uin),
		SecretId: dist.SecretId, SecretKey: dist.SecretKey, Time: testNow}.request())
	if a.code() != "" || len(a.Response) != 1 {
		t.Errorf("ForceQN answered %v, want only RequestId", a.Response)
	}
}

func TestBillMonthsThroughTheClient(t *testing.T) {
	r := newAPIRig(t, Options{})
	c := r.distributor(t)
	ctx := t.Context()
	uin := credentialFor(t, r.srv, "customer", 0).Uin
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"future month is empty", func() error {
			s, err := c.DescribeCustomerBillSummary(ctx, &partnerapi.DescribeCustomerBillSummaryRequest{CustomerUin: uin, Month: "2030-01"})
			if err == nil && !s.TotalCost.IsZero() {
				return fmt.Errorf("TotalCost %s", s.TotalCost)
			}
			return err
		}, ""},
		{"daily bill on 2025-06-01", func() error {
			_, err := c.DescribeCustomerBillDetailByDay(ctx, &partnerapi.DescribeCustomerBillDetailByDayRequest{CustomerUin: int64(uin), Date: "2025-06-01"})
			return err
		}, ""},
		{"daily bill before 2025-06-01", func() error {
			_, err := c.DescribeCustomerBillDetailByDay(ctx, &partnerapi.DescribeCustomerBillDetailByDayRequest{CustomerUin: int64(uin), Date: "2025-05-31"})
			return err
		}, "InvalidParameterValue"},
		{"detail bill of June 2022", func() error {
			_, err := c.DescribeCustomerBillDownloadUrl(ctx, &partnerapi.DescribeCustomerBillDownloadUrlRequest{Month: "2022-06", FileType: "billDetail", CustomerUinType: "Customer", CustomerUin: int64(uin)})
			return err
		}, ""},
		{"detail bill of May 2022", func() error {
			_, err := c.DescribeCustomerBillDownloadUrl(ctx, &partnerapi.DescribeCustomerBillDownloadUrlRequest{Month: "2022-05", FileType: "billDetail", CustomerUinType: "Customer", CustomerUin: int64(uin)})
			return err
		}, "InvalidParameterValue.InvalidMonth"},
		{"resource bill of October 2023", func() error {
			_, err := c.DescribeCustomerBillDownloadUrl(ctx, &partnerapi.DescribeCustomerBillDownloadUrlRequest{Month: "2023-10", FileType: "billResource", CustomerUinType: "Customer", CustomerUin: int64(uin)})
			return err
		}, "InvalidParameterValue.InvalidMonth"},
		{"resource bill of November 2023", func() error {
			_, err := c.DescribeCustomerBillDownloadUrl(ctx, &partnerapi.DescribeCustomerBillDownloadUrlRequest{Month: "2023-11", FileType: "billResource", CustomerUinType: "Customer", CustomerUin: int64(uin)})
			return err
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := apiCode(t, tt.call()); got != tt.want {
				t.Errorf("code %q, want %q", got, tt.want)
			}
		})
	}
}
