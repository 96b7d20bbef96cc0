package foureyes

import (
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/jobs"
	"resellerportal/partnerapi"
)

// Why writes are held: the policy's reasons, stored with a request.
const (
	HoldSuspension = "suspension" // ForceQN Type 2
	HoldOverLimit  = "over_limit" // an allocation above the set amount
	HoldTakeBack   = "take_back"  // a take-back that may leave a customer with 0 or less
)

// available is a customer's available credit as read from the partner API
// just before its writes were submitted.
type available struct {
	amount decimal.Decimal
	at     time.Time
}

// factKey names a customer as read through one key: the distributor's (0)
// or a second-level reseller's.
type factKey struct {
	reseller, uin uint64
}

// holds returns why the writes must wait for a second person, or nothing.
// A writes job is held whole when any of its writes needs approval. A
// take-back lets go only when the customer's available credit, read
// fresh before the job was submitted (fact), stays above 0 after it:
// without a fresh figure the policy cannot know, and holds.
func holds(set Settings, params jobs.WriteParams, intents []jobs.WriteIntent, fact func(factKey) (decimal.Decimal, bool)) []string {
	var out []string
	add := func(r string) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	// A customer's take-backs in one job count together: two that each
	// leave credit may not both.
	takeBacks := map[factKey]decimal.Decimal{}
	var order []factKey
	for _, w := range intents {
		switch w.Action {
		case partnerapi.ActionForceQN:
			if w.Type != nil && *w.Type == 2 {
				add(HoldSuspension)
			}
		case partnerapi.ActionAllocateCustomerCredit, partnerapi.ActionAllocateCreditPool:
			amt, err := decimal.NewFromString(strings.TrimSpace(w.AddedCredit))
			if err != nil {
				// The job would refuse it; the policy holds what it cannot read.
				add(HoldOverLimit)
				continue
			}
			if amt.GreaterThan(set.Threshold) {
				add(HoldOverLimit)
			}
			if !amt.IsNegative() {
				continue
			}
			if w.Action == partnerapi.ActionAllocateCreditPool {
				// A reseller's pool has no figure the gate is given: its
				// take-backs always wait.
				add(HoldTakeBack)
				continue
			}
			k := factKey{params.AsReseller, w.ClientUin}
			if _, seen := takeBacks[k]; !seen {
				order = append(order, k)
			}
			takeBacks[k] = takeBacks[k].Add(amt)
		}
	}
	for _, k := range order {
		have, ok := fact(k)
		if !ok || !have.Add(takeBacks[k]).IsPositive() {
			add(HoldTakeBack)
		}
	}
	return out
}

// totalAllocated is the credit the writes allocate in all ("" for none),
// for lists and confirmations.
func totalAllocated(intents []jobs.WriteIntent) string {
	total, any := decimal.Zero, false
	for _, w := range intents {
		if w.Action != partnerapi.ActionAllocateCustomerCredit && w.Action != partnerapi.ActionAllocateCreditPool {
			continue
		}
		if d, err := decimal.NewFromString(strings.TrimSpace(w.AddedCredit)); err == nil {
			total, any = total.Add(d), true
		}
	}
	if !any {
		return ""
	}
	return total.String()
}
