// Package apicache is the portal's read path to the partner API: pages read
// partner data through it, never straight from the API, so a page view
// costs no API call while the data is fresh, concurrent misses share one
// call, and a person is never kept waiting past a deadline.
//
// It also holds the one table of freshness policies that every cached kind
// follows, the directory and bill summaries the jobs keep in SQLite
// included.
package apicache

import "time"

// Kind is a sort of cached partner data with its own freshness.
type Kind string

// The kinds of cached data.
const (
	// Figures are the dashboard's partner figures: credit, voucher pool,
	// pending applications.
	Figures Kind = "figures"
	// Directory is the customer directory the refresh job fills.
	Directory Kind = "directory"
	// Customer is one customer's details on its page: account, credit,
	// allocation history, vouchers.
	Customer Kind = "customer"
	// BillsCurrentMonth is the current month's bill summaries, which change
	// all day.
	BillsCurrentMonth Kind = "bills.current"
	// BillsPastMonth is a past month's bill summaries, which settle.
	BillsPastMonth Kind = "bills.past"
	// Invitations is the state of the invitations the portal sent
	// (QueryInvitationInfo): it changes when a recipient uses a link.
	Invitations Kind = "invitations"
	// Reference is the API's reference lists (country codes, industries),
	// which change rarely.
	Reference Kind = "reference"
	// Vouchers is the customers' vouchers, their usage and quotas and the
	// partner's voucher pool: vouchers are issued and used all day.
	Vouchers Kind = "vouchers"
)

// policies is how long each kind counts as fresh; past that age a page
// shows the data with its age and refreshes it.
var policies = map[Kind]time.Duration{
	Figures:           time.Minute,
	Directory:         15 * time.Minute,
	Customer:          5 * time.Minute,
	BillsCurrentMonth: time.Hour,
	BillsPastMonth:    24 * time.Hour,
	Invitations:       5 * time.Minute,
	Reference:         24 * time.Hour,
	Vouchers:          5 * time.Minute,
}

// FreshFor returns how long data of the kind counts as fresh.
func FreshFor(k Kind) time.Duration {
	if d, ok := policies[k]; ok {
		return d
	}
	return time.Minute
}

// BillsKind is the kind of a month's bill summaries ("2026-11") seen at now:
// the current month (UTC) or a past one.
func BillsKind(month string, now time.Time) Kind {
	if month == now.UTC().Format("2006-01") {
		return BillsCurrentMonth
	}
	return BillsPastMonth
}

// Stale reports whether data of the kind fetched at fetchedAt is stale at
// now; data never fetched is stale.
func Stale(k Kind, fetchedAt, now time.Time) bool {
	return fetchedAt.IsZero() || now.Sub(fetchedAt) > FreshFor(k)
}
