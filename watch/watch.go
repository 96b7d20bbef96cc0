// Package watch is the low-credit watch: each customer's thresholds (by
// default 25 %, 10 % and 0 % of its credit, and the custom ones people set
// for it, a per cent or an amount in USD), the evaluation of a credit read
// against them, and the state it keeps of who is past which threshold and
// since when. Every read or refresh of a customer's credit — the directory
// refresh, one customer's refresh, its page, an allocation — hands what it
// read to Observe, in the transaction that stores it where there is one;
// a crossing downward is written to the audit log once. The dashboard and
// the credit overview list the customers past a threshold from that state.
//
// It sits below the jobs and the customers services, which call it, and
// imports only the store: no page or job is needed to evaluate a read.
package watch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"resellerportal/store"
)

// Kind is what a threshold's value is.
type Kind string

// The kinds of threshold.
const (
	Percent Kind = store.WatchPercent // a per cent of the customer's credit
	Amount  Kind = store.WatchAmount  // an amount of available credit, in USD
)

// Threshold is a level of available credit that, once reached, marks a
// customer as running low: its available credit at or below the amount it
// stands for.
type Threshold struct {
	Kind  Kind
	Value decimal.Decimal // per cent (0 to 100) or USD
}

// Key names the threshold in the audit log and the forms: "percent:25".
func (t Threshold) Key() string { return string(t.Kind) + ":" + t.Value.String() }

// Bound is the available credit the threshold stands for at a credit
// line: a per cent of a positive credit, or the amount itself. ok is false
// for a per cent of no credit line.
func (t Threshold) Bound(credit decimal.Decimal) (decimal.Decimal, bool) {
	if t.Kind == Amount {
		return t.Value, true
	}
	if !credit.IsPositive() {
		return decimal.Decimal{}, false
	}
	return credit.Mul(t.Value).Div(hundred), true
}

var (
	hundred = decimal.NewFromInt(100)
	tenth   = decimal.RequireFromString("0.10")
	million = decimal.NewFromInt(1_000_000)
)

// Defaults are the thresholds every customer is watched against unless its
// settings say otherwise: 25 %, 10 % and 0 % of its credit.
var Defaults = []Threshold{
	{Percent, decimal.NewFromInt(25)}, {Percent, decimal.NewFromInt(10)}, {Percent, decimal.NewFromInt(0)},
}

// Thresholds are a customer's: the zero value is the defaults alone.
type Thresholds struct {
	NoDefaults bool
	Custom     []Threshold
}

// All lists the thresholds in effect, without repeats, percentages first,
// each kind from the highest value down.
func (t Thresholds) All() []Threshold {
	var all []Threshold
	if !t.NoDefaults {
		all = append(all, Defaults...)
	}
	all = append(all, t.Custom...)
	seen := map[string]bool{}
	out := all[:0:0]
	for _, th := range all {
		if !seen[th.Key()] {
			seen[th.Key()] = true
			out = append(out, th)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind == Percent
		}
		return out[i].Value.GreaterThan(out[j].Value)
	})
	return out
}

// FromSettings reads a customer's stored settings; a stored value that is
// not a decimal (never written by the store) is left out.
func FromSettings(s store.WatchSettings) Thresholds {
	t := Thresholds{NoDefaults: s.NoDefaults}
	for _, c := range s.Custom {
		v, err := decimal.NewFromString(c.Value)
		if err == nil {
			t.Custom = append(t.Custom, Threshold{Kind: Kind(c.Kind), Value: v})
		}
	}
	return t
}

// Severity is how far a customer's credit has run down, for colour and
// order.
type Severity int

// The severities, from fine to nothing left.
const (
	Fine    Severity = iota // past no threshold, or its credit is not known
	Low                     // past a threshold
	VeryLow                 // past a threshold, and 10 % or less of its credit left
	Empty                   // past a threshold, and nothing left: its services stop
)

// Level is a credit read against a customer's thresholds.
type Level struct {
	Severity Severity
	// Threshold is the most severe threshold passed (the lowest amount),
	// and Bound the amount it stands for; meaningful when Past.
	Threshold Threshold
	Bound     decimal.Decimal
}

// Past reports whether the read is past a threshold.
func (l Level) Past() bool { return l.Severity != Fine }

// Evaluate places a credit line, given as exact decimal text (the
// customers table's or the API's), against the thresholds: past one when
// the available credit is at or below the amount it stands for. "" or
// text that is not a decimal is not known, and Fine.
func Evaluate(credit, remaining string, t Thresholds) Level {
	if credit == "" || remaining == "" {
		return Level{}
	}
	c, err1 := decimal.NewFromString(credit)
	r, err2 := decimal.NewFromString(remaining)
	if err1 != nil || err2 != nil {
		return Level{}
	}
	var (
		best  Level
		found bool
	)
	for _, th := range t.All() {
		bound, ok := th.Bound(c)
		if !ok || r.GreaterThan(bound) {
			continue
		}
		// The most severe is the lowest amount; of two equal ones, the
		// first listed (a per cent before an amount).
		if !found || bound.LessThan(best.Bound) {
			best, found = Level{Threshold: th, Bound: bound}, true
		}
	}
	if !found {
		return Level{}
	}
	switch {
	case !r.IsPositive():
		best.Severity = Empty
	case c.IsPositive() && r.LessThanOrEqual(c.Mul(tenth)):
		best.Severity = VeryLow
	default:
		best.Severity = Low
	}
	return best
}

// Share is the part of the credit still available, in per cent with one
// decimal ("12.5"), computed exactly; "" when not known.
func Share(credit, remaining string) string {
	c, err1 := decimal.NewFromString(credit)
	r, err2 := decimal.NewFromString(remaining)
	if credit == "" || remaining == "" || err1 != nil || err2 != nil || !c.IsPositive() {
		return ""
	}
	return r.Mul(hundred).DivRound(c, 1).StringFixed(1)
}

// Seen is one read of a customer's credit.
type Seen struct {
	Uin uint64
	// ResellerUin is the second-level reseller the customer belongs to (0
	// for a direct customer): a crossing's audit row is on its behalf.
	ResellerUin       uint64
	Credit, Remaining string // exact decimal text; "" not read
	// AsOf is when the figures were read; zero is now by the store's
	// clock. A read older than the state it would change is ignored.
	AsOf time.Time
}

// Source is what read the credit, for the audit row of a crossing.
type Source struct {
	Via       string // "directory", "refresh", "customer page", "allocation", "thresholds"
	Job       int64  // the job that read it, if any
	RequestID string // the partner API request that answered, if known
	Addr      string // the client address or "job N" of whoever caused the read
}

// Action is the audit action of a customer crossing a threshold downward.
const Action = "credit.watch.crossed"

// Observe evaluates credit reads against their customers' thresholds in
// tx and keeps the state: a customer newly past a threshold, or past a
// more severe one than before, gets a state since the read and one audit
// row; one past the same threshold keeps its state (a re-read is no new
// crossing); one past none any more loses it. Reads of unknown credit, of
// customers the table does not hold, or older than the state leave it as
// it is. It returns how many crossings it recorded.
func Observe(ctx context.Context, tx *store.Tx, seen []Seen, src Source) (int, error) {
	known := make([]Seen, 0, len(seen))
	uins := make([]uint64, 0, len(seen))
	for _, s := range seen {
		if s.Credit == "" || s.Remaining == "" {
			continue
		}
		if s.AsOf.IsZero() {
			s.AsOf = tx.Now()
		}
		known = append(known, s)
		uins = append(uins, s.Uin)
	}
	if len(known) == 0 {
		return 0, nil
	}
	settings, err := tx.WatchSettingsOf(ctx, uins)
	if err != nil {
		return 0, err
	}
	states, err := tx.WatchStatesOf(ctx, uins)
	if err != nil {
		return 0, err
	}
	crossings := 0
	for _, s := range known {
		th := FromSettings(settings[s.Uin])
		before, had := states[s.Uin]
		if had && s.AsOf.Before(before.AsOf) {
			continue
		}
		level := Evaluate(s.Credit, s.Remaining, th)
		if !level.Past() {
			if had {
				if err := tx.ClearWatchState(ctx, s.Uin); err != nil {
					return crossings, err
				}
				delete(states, s.Uin)
			}
			continue
		}
		next := stateOf(s, level)
		crossed := !had || movedDown(before, level, th, s.Credit)
		switch {
		case crossed:
			next.Since = s.AsOf
		default:
			// The same threshold, or a less severe one it has been past
			// all along.
			next.Since = before.Since
		}
		if err := tx.PutWatchState(ctx, next); isNotFound(err) {
			continue // a customer the table does not hold has no state
		} else if err != nil {
			return crossings, err
		}
		states[s.Uin] = next
		if !crossed {
			continue
		}
		if _, err := tx.AppendAudit(ctx, crossingEntry(s, level, before, had, src)); err != nil {
			return crossings, err
		}
		crossings++
	}
	return crossings, nil
}

// movedDown reports whether the read is past a more severe threshold than
// the state: the threshold it was past, at the credit read now (or as it
// stood then, when it is no longer among the customer's), stands for more.
func movedDown(before store.WatchState, now Level, th Thresholds, credit string) bool {
	if string(now.Threshold.Kind) == before.Kind && now.Threshold.Value.String() == mustDecimal(before.Value).String() {
		return false
	}
	old := mustDecimal(before.Bound)
	c, err := decimal.NewFromString(credit)
	prev := Threshold{Kind: Kind(before.Kind), Value: mustDecimal(before.Value)}
	for _, t := range th.All() {
		if t.Key() != prev.Key() || err != nil {
			continue
		}
		if b, ok := t.Bound(c); ok {
			old = b
		}
	}
	return now.Bound.LessThan(old)
}

func mustDecimal(s string) decimal.Decimal {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero
	}
	return d
}

// stateOf is the state a read past a threshold leaves.
func stateOf(s Seen, l Level) store.WatchState {
	st := store.WatchState{Uin: s.Uin, Kind: string(l.Threshold.Kind), Value: l.Threshold.Value.String(), Bound: l.Bound.String(),
		Credit: s.Credit, Remaining: s.Remaining, AsOf: s.AsOf}
	c, err1 := decimal.NewFromString(s.Credit)
	r, err2 := decimal.NewFromString(s.Remaining)
	if err1 == nil && err2 == nil && c.IsPositive() {
		share := r.Mul(million).Div(c).Round(0)
		if share.GreaterThan(decimal.NewFromInt(1<<62)) || share.LessThan(decimal.NewFromInt(-1<<62)) {
			share = decimal.NewFromInt(1 << 62).Mul(decimal.NewFromInt(int64(share.Sign())))
		}
		v := share.IntPart()
		st.ShareMicros = &v
	}
	return st
}

// crossingEntry is the audit row of a crossing: the portal noticed it, on
// behalf of the customer's reseller, during whatever read the figures.
func crossingEntry(s Seen, l Level, before store.WatchState, had bool, src Source) store.AuditEntry {
	params := map[string]string{
		"threshold": l.Threshold.Key(), "bound": l.Bound.String(), "credit": s.Credit, "remaining": s.Remaining, "via": src.Via,
	}
	if had {
		params["previous"] = before.Kind + ":" + mustDecimal(before.Value).String()
	}
	if src.Job != 0 {
		params["job"] = strconv.FormatInt(src.Job, 10)
	}
	return store.AuditEntry{Actor: "system", ActorRole: "system", OnBehalfOf: s.ResellerUin, Action: Action, TargetUin: s.Uin,
		Params: params, Outcome: store.OutcomeOK, RequestId: src.RequestID, ClientAddr: src.Addr}
}

// Notice observes one read made outside a write (a customer's page): it
// writes only when the read would change the state, so a page viewed again
// and again costs one read of the state, not a write each time. The write
// is detached: a crossing seen is recorded even if the viewer leaves.
func Notice(ctx context.Context, db *store.DB, s Seen, src Source) error {
	if s.Credit == "" || s.Remaining == "" {
		return nil
	}
	settings, err := db.WatchSettings(ctx, s.Uin)
	if err != nil {
		return err
	}
	level := Evaluate(s.Credit, s.Remaining, FromSettings(settings))
	state, err := db.WatchState(ctx, s.Uin)
	switch {
	case err == nil:
		if !s.AsOf.IsZero() && s.AsOf.Before(state.AsOf) {
			return nil
		}
		if level.Past() && string(level.Threshold.Kind) == state.Kind && level.Threshold.Value.String() == mustDecimal(state.Value).String() &&
			state.Credit == s.Credit && state.Remaining == s.Remaining {
			return nil
		}
	case isNotFound(err):
		if !level.Past() {
			return nil
		}
	default:
		return err
	}
	return db.WriteDetached(ctx, func(tx *store.Tx) error {
		_, err := Observe(ctx, tx, []Seen{s}, src)
		return err
	})
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// String writes the threshold for logs: "25 %", "500.00 USD".
func (t Threshold) String() string {
	if t.Kind == Percent {
		return fmt.Sprintf("%s %%", t.Value)
	}
	return t.Value.StringFixed(2) + " USD"
}
