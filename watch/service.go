package watch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/store"
)

// Limits of the thresholds form.
const (
	MaxCustom   = 10 // custom thresholds a customer may have
	MaxValueLen = 20 // characters of a threshold's value as typed
	MaxDecimals = 2  // a per cent's or a USD amount's decimals
)

// MaxAmount is the largest amount threshold, in USD.
var MaxAmount = decimal.NewFromInt(1_000_000_000)

// Message ids of the service's errors.
const (
	msgForbidden = "watch.forbidden"
	msgNotFound  = "watch.not_found"
	msgBadKind   = "watch.bad_kind"
	msgBadValue  = "watch.bad_value"
	msgPercent   = "watch.bad_percent"
	msgAmount    = "watch.bad_amount"
	msgTooMany   = "watch.too_many"
)

// SetAction is the audit action of a customer's thresholds being set.
const SetAction = "credit.watch.set"

// Service is the watch's use cases: a customer's thresholds seen and set,
// and the customers past a threshold listed.
type Service struct {
	db *store.DB
}

// NewService returns the watch service.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// Customer is one customer's watch: its thresholds, the figures of its
// latest credit read, where those stand and since when.
type Customer struct {
	Row        store.Customer
	Settings   store.WatchSettings
	Thresholds []Threshold // in effect
	// Credit and Remaining are the latest read of its credit: the state's
	// when that is newer than the table's row (a page's read, or the
	// row's credit not known to the distributor), else the row's.
	Credit, Remaining string
	Level             Level
	State             *store.WatchState // nil when past no threshold
	CanEdit           bool
}

// owners adapts the table to authorization's view of customer owners.
type owners struct{ db *store.DB }

func (o owners) CustomerOwner(ctx context.Context, uin uint64) (uint64, error) {
	owner, err := o.db.CustomerOwner(ctx, uin)
	if errors.Is(err, store.ErrNotFound) {
		return 0, auth.ErrUnknownCustomer
	}
	return owner, err
}

// row returns the customer if the actor may see it; a UIN that is not the
// partner's customer, or not the viewer's reseller's, is not found alike.
func (s *Service) row(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error) {
	notFound := func(cause error) error {
		return apperr.New(apperr.NotFound, "", msgNotFound).With(map[string]any{"Uin": uin}).Because(cause)
	}
	if err := auth.AuthorizeCustomer(ctx, actor.Principal, uin, owners{s.db}); err != nil {
		if errors.Is(err, auth.ErrForbidden) {
			return store.Customer{}, notFound(err)
		}
		return store.Customer{}, err
	}
	row, err := s.db.CustomerByUin(ctx, uin)
	if errors.Is(err, store.ErrNotFound) {
		return store.Customer{}, notFound(err)
	}
	return row, err
}

// Customer reads one customer's watch.
func (s *Service) Customer(ctx context.Context, actor audit.Actor, uin uint64) (Customer, error) {
	if !actor.Can(auth.ViewCredit) {
		return Customer{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	row, err := s.row(ctx, actor, uin)
	if err != nil {
		return Customer{}, err
	}
	c := Customer{Row: row, CanEdit: actor.Can(auth.WriteCredit), Credit: row.Credit, Remaining: row.RemainingCredit}
	if c.Settings, err = s.db.WatchSettings(ctx, uin); err != nil {
		return Customer{}, err
	}
	state, err := s.db.WatchState(ctx, uin)
	switch {
	case err == nil:
		c.State = &state
		if row.Credit == "" || !state.AsOf.Before(row.FetchedAt) {
			c.Credit, c.Remaining = state.Credit, state.Remaining
		}
	case !errors.Is(err, store.ErrNotFound):
		return Customer{}, err
	}
	th := FromSettings(c.Settings)
	c.Thresholds = th.All()
	c.Level = Evaluate(c.Credit, c.Remaining, th)
	return c, nil
}

// Row is one custom threshold as typed in the form.
type Row struct {
	Kind  string // "percent" or "amount"
	Value string // "" leaves the row out
}

// Input is the thresholds form as typed.
type Input struct {
	Defaults bool // the default thresholds apply
	Rows     []Row
}

// Parse checks the form: every value an exact decimal with at most two
// decimals, a per cent from 0 to 100, an amount from 0 to MaxAmount USD,
// at most MaxCustom of them (a repeat counts once). Each bad row's error
// names its field, "value.N" (N from 0).
func Parse(in Input) (Thresholds, error) {
	t := Thresholds{NoDefaults: !in.Defaults}
	var errs []error
	seen := map[string]bool{}
	for i, r := range in.Rows {
		v := strings.TrimSpace(r.Value)
		if v == "" {
			continue
		}
		field := "value." + strconv.Itoa(i)
		kind := Kind(r.Kind)
		if kind != Percent && kind != Amount {
			errs = append(errs, apperr.InvalidField("kind."+strconv.Itoa(i), msgBadKind))
			continue
		}
		d, err := parseValue(v)
		if err != nil {
			errs = append(errs, apperr.InvalidField(field, msgBadValue).With(map[string]any{"Decimals": MaxDecimals}))
			continue
		}
		switch {
		case kind == Percent && d.GreaterThan(hundred):
			errs = append(errs, apperr.InvalidField(field, msgPercent))
			continue
		case kind == Amount && d.GreaterThan(MaxAmount):
			errs = append(errs, apperr.InvalidField(field, msgAmount).With(map[string]any{"Max": MaxAmount.String()}))
			continue
		}
		th := Threshold{Kind: kind, Value: d}
		if seen[th.Key()] {
			continue
		}
		seen[th.Key()] = true
		if len(t.Custom) == MaxCustom {
			errs = append(errs, apperr.InvalidField(field, msgTooMany).With(map[string]any{"Max": MaxCustom}))
			continue
		}
		t.Custom = append(t.Custom, th)
	}
	return t, errors.Join(errs...)
}

// parseValue reads a value typed as plain digits with at most MaxDecimals
// decimals, never a sign, exponent or anything a float parser would take.
func parseValue(v string) (decimal.Decimal, error) {
	if utf8.RuneCountInString(v) > MaxValueLen {
		return decimal.Decimal{}, errors.New("too long")
	}
	whole, frac, dot := strings.Cut(v, ".")
	if whole == "" || !digits(whole) || (dot && (frac == "" || !digits(frac) || len(frac) > MaxDecimals)) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a plain decimal", v)
	}
	return decimal.NewFromString(v)
}

func digits(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// Set replaces a customer's thresholds with the form's, writes the change
// to the audit log, and evaluates the customer's latest credit read
// against them in the same transaction (a threshold set above the
// available credit is a crossing like any other).
func (s *Service) Set(ctx context.Context, actor audit.Actor, uin uint64, in Input) error {
	if !actor.Can(auth.WriteCredit) {
		return apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	th, err := Parse(in)
	if err != nil {
		return err
	}
	cur, err := s.Customer(ctx, actor, uin)
	if err != nil {
		return err
	}
	next := store.WatchSettings{Uin: uin, NoDefaults: th.NoDefaults, UpdatedBy: actor.Username}
	for _, t := range th.Custom {
		next.Custom = append(next.Custom, store.WatchThreshold{Kind: string(t.Kind), Value: t.Value.String()})
	}
	params := map[string]string{"defaults": onOff(!th.NoDefaults), "thresholds": keys(th.Custom),
		"previous_defaults": onOff(!cur.Settings.NoDefaults), "previous": keys(FromSettings(cur.Settings).Custom)}
	return s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.SetWatchSettings(ctx, next); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, actor.Entry(SetAction, uin, params)); err != nil {
			return err
		}
		_, err := Observe(ctx, tx, []Seen{{Uin: uin, ResellerUin: cur.Row.ResellerUin, Credit: cur.Credit, Remaining: cur.Remaining}},
			Source{Via: "thresholds", Addr: actor.Addr})
		return err
	})
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func keys(ts []Threshold) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Key()
	}
	return strings.Join(out, ", ")
}

// Watched is the start of the list of customers past a threshold.
type Watched struct {
	Customers []store.WatchedCustomer // most severe first
	Total     int                     // how many are past a threshold in all
}

// List returns the first limit customers past a threshold the actor may
// see, most severe first: a reseller's login sees its own customers only.
func (s *Service) List(ctx context.Context, actor audit.Actor, limit int) (Watched, error) {
	if !actor.Can(auth.ViewCredit) {
		return Watched{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	q := store.WatchQuery{Limit: limit}
	if reseller := actor.OnBehalfOf(); reseller != 0 {
		q.ResellerUin = &reseller
	} else if actor.Role == auth.RoleSubagent {
		return Watched{}, nil // a reseller's login without its reseller sees nobody's
	}
	list, total, err := s.db.WatchedCustomers(ctx, q)
	if err != nil {
		return Watched{}, err
	}
	return Watched{Customers: list, Total: total}, nil
}

// StatesOf returns the watch state of those of the customers given (a page
// of a list) that are past a threshold.
func (s *Service) StatesOf(ctx context.Context, uins []uint64) (map[uint64]store.WatchState, error) {
	return s.db.WatchStatesOf(ctx, uins)
}

// ThresholdsOf returns the thresholds of the customers given (a page of a
// list): those nobody has set are absent, which is the defaults alone.
func (s *Service) ThresholdsOf(ctx context.Context, uins []uint64) (map[uint64]Thresholds, error) {
	settings, err := s.db.WatchSettingsOf(ctx, uins)
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]Thresholds, len(settings))
	for uin, st := range settings {
		out[uin] = FromSettings(st)
	}
	return out, nil
}
