package foureyes

import (
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/jobs"
	"resellerportal/partnerapi"
)

func TestHolds(t *testing.T) {
	set := Settings{Enabled: true, Threshold: decimal.RequireFromString("1000"), Expiry: time.Hour}
	two, zero := int64(2), int64(0)
	alloc := func(uin uint64, amount string) jobs.WriteIntent {
		return jobs.WriteIntent{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: uin, AddedCredit: amount}
	}
	// Customer 1 has 50 available, as read just before; customer 2 was not read.
	facts := func(k factKey) (decimal.Decimal, bool) {
		if k == (factKey{0, 1}) {
			return decimal.NewFromInt(50), true
		}
		return decimal.Decimal{}, false
	}
	for _, tc := range []struct {
		name    string
		intents []jobs.WriteIntent
		want    []string
	}{
		{"an allocation at the amount", []jobs.WriteIntent{alloc(1, "1000.00")}, nil},
		{"an allocation above it", []jobs.WriteIntent{alloc(1, "1000.01")}, []string{HoldOverLimit}},
		{"a take-back that leaves credit", []jobs.WriteIntent{alloc(1, "-49.99")}, nil},
		{"a take-back to exactly 0", []jobs.WriteIntent{alloc(1, "-50")}, []string{HoldTakeBack}},
		{"a take-back below 0", []jobs.WriteIntent{alloc(1, "-75")}, []string{HoldTakeBack}},
		{"a take-back from an unread customer", []jobs.WriteIntent{alloc(2, "-1")}, []string{HoldTakeBack}},
		{"a pool take-back", []jobs.WriteIntent{{Action: partnerapi.ActionAllocateCreditPool, ClientUin: 9, AddedCredit: "-1"}}, []string{HoldTakeBack}},
		{"a pool allocation above the amount", []jobs.WriteIntent{{Action: partnerapi.ActionAllocateCreditPool, ClientUin: 9, AddedCredit: "5000"}}, []string{HoldOverLimit}},
		{"a suspension", []jobs.WriteIntent{{Action: partnerapi.ActionForceQN, ClientUin: 1, Type: &two}}, []string{HoldSuspension}},
		{"a restore", []jobs.WriteIntent{{Action: partnerapi.ActionForceQN, ClientUin: 1, Type: &zero}}, nil},
		{"a remark", []jobs.WriteIntent{{Action: partnerapi.ActionModifyClientRemark, ClientUin: 1, Remark: "x"}}, nil},
		{"two take-backs of one customer that together leave nothing", []jobs.WriteIntent{alloc(1, "-25"), alloc(3, "10"), alloc(1, "-25")}, []string{HoldTakeBack}},
		{"two take-backs of one customer that leave credit", []jobs.WriteIntent{alloc(1, "-20"), alloc(1, "-20")}, nil},
		{"a bulk job with one line above", []jobs.WriteIntent{alloc(3, "10"), alloc(4, "10"), alloc(5, "2000"), alloc(6, "10")}, []string{HoldOverLimit}},
		{"every reason once", []jobs.WriteIntent{alloc(3, "2000"), alloc(4, "3000"), {Action: partnerapi.ActionForceQN, ClientUin: 1, Type: &two}, alloc(2, "-1")},
			[]string{HoldOverLimit, HoldSuspension, HoldTakeBack}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := holds(set, jobs.WriteParams{}, tc.intents, facts); !slices.Equal(got, tc.want) {
				t.Errorf("holds = %v, want %v", got, tc.want)
			}
		})
	}
	// A reseller's customer read with the distributor's key is not the same figure.
	if got := holds(set, jobs.WriteParams{AsReseller: 7}, []jobs.WriteIntent{alloc(1, "-1")}, facts); !slices.Equal(got, []string{HoldTakeBack}) {
		t.Errorf("a figure read through another key decided: %v", got)
	}
}

func TestParseThreshold(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "1000": "1000", " 12.5 ": "12.5", "999999999999.99": "999999999999.99", "3.10": "3.1"} {
		d, ok := ParseThreshold(in)
		if !ok || d.String() != want {
			t.Errorf("ParseThreshold(%q) = %s, %v; want %s", in, d, ok, want)
		}
	}
	for _, in := range []string{"", "-1", "+1", "1e3", "1.001", "abc", "1,000", "9999999999999", "0x10", "NaN"} {
		if _, ok := ParseThreshold(in); ok {
			t.Errorf("ParseThreshold(%q) accepted", in)
		}
	}
}

func TestTotalAllocated(t *testing.T) {
	two := int64(2)
	in := []jobs.WriteIntent{
		{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: 1, AddedCredit: "0.1"},
		{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: 2, AddedCredit: "0.2"},
		{Action: partnerapi.ActionForceQN, ClientUin: 3, Type: &two},
	}
	if got := totalAllocated(in); got != "0.3" {
		t.Errorf("total %q, want an exact 0.3", got)
	}
	if got := totalAllocated(in[2:]); got != "" {
		t.Errorf("a suspension allocates %q", got)
	}
}
