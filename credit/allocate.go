package credit

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/resellers"
	"resellerportal/store"
)

// CustomerCredit reads a customer's credit line and drops its cached reads.
type CustomerCredit interface {
	Credit(ctx context.Context, actor audit.Actor, uin uint64, mode apicache.Mode) (store.Customer, apicache.Figure[partnerapi.QueryDirectCustomersCreditData], error)
	Forget(uin uint64)
}

// Pools reads the distributor's resellers' credit pools.
type Pools interface {
	Pool(ctx context.Context, actor audit.Actor, uin uint64, mode apicache.Mode) (resellers.Reseller, time.Time, error)
	Forget()
}

// Writes submits writes jobs and waits for them.
type Writes interface {
	SubmitWrites(ctx context.Context, actor audit.Actor, title string, params jobs.WriteParams, intents []jobs.WriteIntent) (store.Job, error)
	Await(ctx context.Context, id int64, wait time.Duration) (jobs.Outcome, error)
	CheckAgain(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error)
}

// Approvals reads, just before writes are submitted, the figures four-eyes
// approval decides take-backs on (the gate cannot call the API).
type Approvals interface {
	Prepare(ctx context.Context, params jobs.WriteParams, intents []jobs.WriteIntent) error
}

// prepareApproval gives four-eyes approval its figures; when they cannot
// be read the gate holds a take-back for approval, the safe side, so the
// error changes nothing here.
func (s *Service) prepareApproval(ctx context.Context, params jobs.WriteParams, intents []jobs.WriteIntent) {
	if s.approvals != nil {
		_ = s.approvals.Prepare(ctx, params, intents)
	}
}

// Ledger reads the allocations made through the portal.
type Ledger interface {
	CreditAllocationByKey(ctx context.Context, key string) (store.CreditAllocation, error)
	CreditAllocationByID(ctx context.Context, id int64) (store.CreditAllocation, error)
	CreditLedger(ctx context.Context, q store.LedgerQuery) ([]store.CreditAllocation, int, error)
	EachCreditAllocation(ctx context.Context, q store.LedgerQuery, fn func(store.CreditAllocation) error) error
	WriteDetached(ctx context.Context, fn func(tx *store.Tx) error) error
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
}

// Limits of an allocation's inputs.
const (
	// MaxRemark leaves room in the API's remark for the marker that
	// finds the allocation again in the history.
	MaxRemark = jobs.MaxRemark - 40
	// MaxKey bounds the idempotency key a form sends back.
	MaxKey = 64
)

// maxAmount bounds an amount: no partner's credit line is a trillion.
var maxAmount = decimal.New(1, 12)

// amountPattern is an amount as people type it: optional sign, digits, and
// at most eight decimals, the precision the API keeps credit in (taking
// back all of a customer's available credit needs every digit of it).
var amountPattern = regexp.MustCompile(`^[+-]?[0-9]{1,13}(\.[0-9]{1,8})?$`)

// keyPattern is a key NewKey made (or one of the same shape).
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// Message ids of the allocation errors.
const (
	msgAmountFormat   = "credit.err_amount_format"
	msgAmountZero     = "credit.err_amount_zero"
	msgAmountTooLarge = "credit.err_amount_large"
	msgOverAllocable  = "credit.err_over_allocable"
	msgBelowZero      = "credit.err_below_zero"
	msgPoolBelowUsed  = "credit.err_pool_below_used"
	msgRemarkLong     = "credit.err_remark_long"
	msgRemarkControl  = "credit.err_remark_control"
	msgRemarkMarker   = "credit.err_remark_marker"
	msgBadKey         = "credit.err_key"
	msgKeyReused      = "credit.err_key_reused"
	msgBusy           = "credit.err_busy"
	msgNoFigures      = "credit.err_no_figures"
	msgNotFound       = "credit.err_no_allocation"
	msgPoolsForbidden = "credit.pools_forbidden"
)

// NewKey returns a fresh idempotency key for an allocation form.
func NewKey() string { return rand.Text() }

// Request is an allocation as a form sends it.
type Request struct {
	Key    string
	Target string // store.AllocationToCustomer or store.AllocationToPool
	Uin    uint64
	Amount string
	Remark string
}

// Preview is the confirmation step: the target's credit now and after, and
// what the partner may still allocate.
type Preview struct {
	Request Request // checked, the amount in its canonical form
	Name    string  // the customer's or reseller's name
	// Reseller is the second-level reseller whose customer it is (its key
	// makes the call); 0 for the distributor's own and for pools.
	Reseller uint64
	// Credit and Remaining are the target's credit line and available
	// credit now; CreditAfter and RemainingAfter after the allocation.
	Credit, Remaining, CreditAfter, RemainingAfter decimal.Decimal
	// Allocable is what the partner (or, for a reseller's login, its
	// pool) may still allocate, and AllocableAfter after this one.
	Allocable, AllocableAfter decimal.Decimal
	AllocableKnown            bool
	AsOf                      time.Time
	// ToZero: a take-back leaves the customer no available credit, which
	// stops its services.
	ToZero bool
	// Warning is the message id of what Tencent Cloud will most likely
	// refuse, judged from the figures as read (they may be up to a minute
	// old, so the API has the last word): more than may be allocated; ""
	// when none.
	Warning string
	// InFlight is the target's allocation still on its way or of unknown
	// outcome, which keeps a new one from being sent; nil when none.
	InFlight *store.CreditAllocation
}

// Allocation is an allocation as the person who made it sees it.
type Allocation struct {
	store.CreditAllocation
	// State is AllocationOK, AllocationFailed, AllocationUnknown,
	// AllocationChecking or AllocationHeld.
	State string
	// CreditAfter and RemainingAfter are the figures the API answered.
	CreditAfter, RemainingAfter string
	// Replayed: the form was sent again (double click, reload, a second
	// tab); this is the first submission's allocation.
	Replayed bool
	// Ended: its job has ended (an unknown outcome stays unknown).
	Ended bool
}

// The states of an Allocation.
const (
	AllocationOK       = "ok"
	AllocationFailed   = "failed"
	AllocationUnknown  = "unknown"
	AllocationChecking = "checking"
	AllocationHeld     = "held" // waiting for a second person's approval
)

// allocationOf reads an allocation's state from its item.
func allocationOf(a store.CreditAllocation, ended bool) Allocation {
	out := Allocation{CreditAllocation: a, Ended: ended}
	switch {
	case a.JobID == 0:
		out.State = AllocationHeld
	case a.Status == store.ItemOK:
		out.State = AllocationOK
	case a.Status == store.ItemFailed || a.Status == store.ItemSkipped:
		out.State = AllocationFailed
	case a.Status == store.ItemUnknown && ended:
		out.State = AllocationUnknown
	default:
		out.State = AllocationChecking
	}
	var summary map[string]string
	if len(a.Result) > 0 && json.Unmarshal(a.Result, &summary) == nil {
		out.CreditAfter, out.RemainingAfter = summary["TotalCredit"], summary["RemainingCredit"]
	}
	return out
}

// mayAllocate checks the actor's permission for the target.
func mayAllocate(actor audit.Actor, target string) error {
	switch target {
	case store.AllocationToCustomer:
		if actor.Can(auth.WriteCredit) {
			return nil
		}
	case store.AllocationToPool:
		if actor.Can(auth.WriteSubagents) && actor.OnBehalfOf() == 0 {
			return nil
		}
		return apperr.New(apperr.Forbidden, "", msgPoolsForbidden)
	}
	return ErrForbidden
}

// check normalises and checks a request's fields, without reading anything.
func check(r Request) (Request, decimal.Decimal, error) {
	var errs []error
	if !keyPattern.MatchString(r.Key) {
		errs = append(errs, apperr.InvalidField("key", msgBadKey))
	}
	r.Amount = strings.TrimSpace(r.Amount)
	amount, err := decimal.NewFromString(r.Amount)
	switch {
	case !amountPattern.MatchString(r.Amount) || err != nil:
		errs = append(errs, apperr.InvalidField("amount", msgAmountFormat))
	case amount.IsZero():
		errs = append(errs, apperr.InvalidField("amount", msgAmountZero))
	case amount.Abs().GreaterThanOrEqual(maxAmount):
		errs = append(errs, apperr.InvalidField("amount", msgAmountTooLarge))
	default:
		r.Amount = amount.String()
	}
	r.Remark = strings.TrimSpace(r.Remark)
	switch {
	case !utf8.ValidString(r.Remark) || strings.IndexFunc(r.Remark, unicode.IsControl) >= 0:
		errs = append(errs, apperr.InvalidField("remark", msgRemarkControl))
	case strings.Contains(r.Remark, jobs.MarkerPrefix):
		errs = append(errs, apperr.InvalidField("remark", msgRemarkMarker))
	case utf8.RuneCountInString(r.Remark) > MaxRemark:
		errs = append(errs, apperr.InvalidField("remark", msgRemarkLong).With(map[string]any{"Max": MaxRemark}))
	}
	if r.Target == store.AllocationToPool && r.Remark != "" {
		// AllocateCreditPool takes no remark; the ledger keeps none.
		r.Remark = ""
	}
	return r, amount, errors.Join(errs...)
}

// Current reads the figures an allocation form shows before anything is
// typed: the target's credit and what the partner may still allocate.
func (s *Service) Current(ctx context.Context, actor audit.Actor, target string, uin uint64) (Preview, error) {
	if err := mayAllocate(actor, target); err != nil {
		return Preview{}, err
	}
	p := Preview{Request: Request{Target: target, Uin: uin}}
	switch target {
	case store.AllocationToCustomer:
		row, line, err := s.customerCredit.Credit(ctx, actor, uin, apicache.Fresh)
		if err != nil {
			return Preview{}, err
		}
		if line.Value == nil {
			return Preview{}, figureError(line.Err, line.Pending)
		}
		p.Name, p.Reseller = row.Name, row.ResellerUin
		p.Credit, p.Remaining, p.AsOf = line.Value.TotalCredit.Decimal(), line.Value.RemainingCredit.Decimal(), line.FetchedAt
	case store.AllocationToPool:
		rs, at, err := s.pools.Pool(ctx, actor, uin, apicache.Fresh)
		if err != nil {
			return Preview{}, err
		}
		p.Name, p.AsOf = rs.Name, at
		p.Credit, p.Remaining = rs.Credit.Decimal(), rs.RemainingCredit.Decimal()
	}
	figs, err := s.figures.Figures(ctx, actor, apicache.Fresh)
	if err == nil && figs.Credit.Value != nil {
		p.Allocable, p.AllocableKnown = figs.Credit.Value.Remaining.Decimal(), true
	}
	recent, _, err := s.ledger.CreditLedger(ctx, store.LedgerQuery{Target: target, Uin: uin, Limit: 20})
	if err != nil {
		return Preview{}, err
	}
	for _, a := range recent {
		if a.InFlight() {
			p.InFlight = &a
			break
		}
	}
	return p, nil
}

// Prepare checks an allocation and reads the figures its confirmation
// shows, fresh within the customer kind's freshness: the target's credit
// and what the partner may still allocate, now and after. Taking back more
// than the target has is refused; more than the partner may allocate is a
// warning, since the figure may be a minute old and Tencent Cloud decides.
func (s *Service) Prepare(ctx context.Context, actor audit.Actor, r Request) (Preview, error) {
	if err := mayAllocate(actor, r.Target); err != nil {
		return Preview{}, err
	}
	r, amount, err := check(r)
	if err != nil {
		return Preview{}, err
	}
	p, err := s.Current(ctx, actor, r.Target, r.Uin)
	if err != nil {
		return Preview{}, err
	}
	p.Request = r
	p.CreditAfter, p.RemainingAfter = p.Credit.Add(amount), p.Remaining.Add(amount)
	if p.RemainingAfter.IsNegative() {
		// Never below what the target has: a certain refusal.
		msg := msgBelowZero
		if r.Target == store.AllocationToPool {
			// What the reseller gave its customers cannot be taken back.
			msg = msgPoolBelowUsed
		}
		return p, apperr.InvalidField("amount", msg).With(map[string]any{"Available": p.Remaining.StringFixed(2)})
	}
	p.ToZero = r.Target == store.AllocationToCustomer && amount.IsNegative() && p.RemainingAfter.IsZero()
	if p.AllocableKnown {
		p.AllocableAfter = p.Allocable.Sub(amount)
		if amount.IsPositive() && amount.GreaterThan(p.Allocable) {
			p.Warning = msgOverAllocable
		}
	}
	return p, nil
}

// figureError is why a figure the confirmation needs could not be read.
func figureError(err error, pending bool) error {
	if err != nil {
		return err
	}
	e := apperr.New(apperr.Busy, "", msgNoFigures)
	if pending {
		return e.Because(apicache.ErrPending)
	}
	return e
}

// allocationWait is how long Allocate waits for the API's answer before
// the page shows the allocation still under way.
const allocationWait = 20 * time.Second

// Allocate makes an allocation once. The key, made when the form was
// shown, is recorded with the intent before anything is sent: the same key
// sent again (a double click, a reload, a second tab, the back button)
// returns the first submission's allocation, and the same key with other
// parameters is refused. A target with an allocation on its way or of
// unknown outcome takes none until that one is known. The figures are
// checked again, as for the confirmation; the person then waits for the
// answer at their priority, up to allocationWait.
func (s *Service) Allocate(ctx context.Context, actor audit.Actor, r Request) (Allocation, error) {
	if err := mayAllocate(actor, r.Target); err != nil {
		return Allocation{}, err
	}
	checked, _, err := check(r)
	if err != nil {
		return Allocation{}, err
	}
	if prior, err := s.ledger.CreditAllocationByKey(ctx, checked.Key); err == nil {
		return s.replay(ctx, actor, prior, checked)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Allocation{}, err
	}
	p, err := s.Prepare(ctx, actor, checked)
	if err != nil {
		return Allocation{}, err
	}
	if p.InFlight != nil {
		if p.InFlight.Key == checked.Key {
			// Another tab sent this very form a moment ago.
			return s.replay(ctx, actor, *p.InFlight, checked)
		}
		return Allocation{}, busyError(*p.InFlight)
	}
	params := jobs.WriteParams{Interactive: true, AsReseller: p.Reseller}
	action, title := partnerapi.ActionAllocateCustomerCredit, "Allocate credit to "+strconv.FormatUint(checked.Uin, 10)
	if checked.Target == store.AllocationToPool {
		action, title = partnerapi.ActionAllocateCreditPool, "Allocate credit to the pool of "+strconv.FormatUint(checked.Uin, 10)
	}
	intent := jobs.WriteIntent{Action: action, ClientUin: checked.Uin, AddedCredit: checked.Amount, Remark: checked.Remark,
		Key: checked.Key, CreditBefore: p.Credit.String(), RemainingBefore: p.Remaining.String()}
	s.prepareApproval(ctx, params, []jobs.WriteIntent{intent})
	job, err := s.writes.SubmitWrites(ctx, actor, title, params, []jobs.WriteIntent{intent})
	var held *jobs.HeldError
	var used *jobs.KeyUsedError
	var busy *jobs.BusyError
	switch {
	case errors.As(err, &held):
		a, err := s.ledger.CreditAllocationByKey(ctx, checked.Key)
		if err != nil {
			return Allocation{}, err
		}
		return allocationOf(a, false), nil
	case errors.As(err, &used):
		// Another tab won the race for this key.
		return s.replay(ctx, actor, used.Allocation, checked)
	case errors.As(err, &busy):
		return Allocation{}, busyError(busy.Allocation)
	case err != nil:
		return Allocation{}, fmt.Errorf("allocate %s to %d: %w", checked.Amount, checked.Uin, err)
	}
	out, err := s.writes.Await(ctx, job.ID, allocationWait)
	if err != nil {
		return Allocation{}, err
	}
	a, err := s.ledger.CreditAllocationByKey(context.WithoutCancel(ctx), checked.Key)
	if err != nil {
		return Allocation{}, err
	}
	got := allocationOf(a, out.Ended)
	if got.State == AllocationOK {
		s.forget(checked.Target, checked.Uin)
	}
	return got, nil
}

// forget drops what the cache holds of a target whose credit changed.
func (s *Service) forget(target string, uin uint64) {
	if target == store.AllocationToPool {
		s.pools.Forget()
	} else {
		s.customerCredit.Forget(uin)
	}
	s.figures.Forget()
}

// replay answers a key sent again: the first allocation when the
// parameters are the same, a refusal when they are not.
func (s *Service) replay(ctx context.Context, actor audit.Actor, prior store.CreditAllocation, r Request) (Allocation, error) {
	if prior.UserID != actor.UserID || prior.Target != r.Target || prior.Uin != r.Uin || !sameAmount(prior.Amount, r.Amount) || prior.Remark != r.Remark {
		return Allocation{}, apperr.New(apperr.Conflict, "", msgKeyReused).Because(fmt.Errorf("key %s was used for allocation %d", r.Key, prior.ID))
	}
	a, err := s.allocation(ctx, prior)
	a.Replayed = true
	return a, err
}

func sameAmount(a, b string) bool {
	x, err1 := decimal.NewFromString(a)
	y, err2 := decimal.NewFromString(b)
	return err1 == nil && err2 == nil && x.Equal(y)
}

// busyError refuses an allocation to a target with one in flight.
func busyError(a store.CreditAllocation) error {
	return apperr.New(apperr.Conflict, "", msgBusy).With(map[string]any{"ID": a.ID, "Job": a.JobID}).
		Because(fmt.Errorf("allocation %d to %d is %s", a.ID, a.Uin, a.Status))
}

// allocation is a ledger row with its job's state.
func (s *Service) allocation(ctx context.Context, a store.CreditAllocation) (Allocation, error) {
	if a.JobID == 0 {
		return allocationOf(a, false), nil
	}
	out, err := s.writes.Await(ctx, a.JobID, 0)
	if err != nil {
		return Allocation{}, err
	}
	return allocationOf(a, out.Ended), nil
}

// mayRead reports whether the actor may see a ledger row: the distributor's
// people with credit.view see all; a reseller's login those its logins made.
func mayRead(actor audit.Actor, a store.CreditAllocation) bool {
	if !actor.Can(auth.ViewCredit) {
		return false
	}
	if r := actor.OnBehalfOf(); r != 0 {
		return a.OnBehalfOf == r || a.AsReseller == r
	}
	return true
}

// Allocation returns one allocation from the ledger, as its page shows it.
func (s *Service) Allocation(ctx context.Context, actor audit.Actor, id int64) (Allocation, error) {
	a, err := s.ledger.CreditAllocationByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !mayRead(actor, a)) {
		return Allocation{}, apperr.New(apperr.NotFound, "", msgNotFound).Because(fmt.Errorf("allocation %d", id))
	}
	if err != nil {
		return Allocation{}, err
	}
	return s.allocation(ctx, a)
}

// CheckAgain reads back, at the person's priority, an allocation whose
// outcome is unknown; the person who made it or an admin may.
func (s *Service) CheckAgain(ctx context.Context, actor audit.Actor, id int64) (Allocation, error) {
	a, err := s.Allocation(ctx, actor, id)
	if err != nil {
		return Allocation{}, err
	}
	if a.JobID != 0 && a.State == AllocationUnknown {
		if _, err := s.writes.CheckAgain(ctx, actor, a.JobID); err != nil {
			return Allocation{}, err
		}
	}
	return s.Allocation(ctx, actor, id)
}

// CodeResolvedByHand marks an allocation whose outcome a person settled
// after checking Tencent Cloud's console, when reading back could not.
const CodeResolvedByHand = "portal.ResolvedByHand"

// MaxResolveNote bounds the note that says how it was checked.
const MaxResolveNote = 200

// Resolve settles by hand an allocation whose outcome stays unknown after
// its job ended (its customer's or pool's figures changed elsewhere, so
// reading back cannot tell): an administrator who checked Tencent Cloud's
// console records whether it was applied, with a note saying how. Until
// then the customer or pool takes no new allocation; after, it does. The
// decision is audited with the note.
func (s *Service) Resolve(ctx context.Context, actor audit.Actor, id int64, applied bool, note string) (Allocation, error) {
	if actor.Role != auth.RoleAdmin {
		return Allocation{}, ErrForbidden
	}
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		return Allocation{}, apperr.InvalidField("note", "credit.err_resolve_note")
	case !utf8.ValidString(note) || strings.IndexFunc(note, unicode.IsControl) >= 0 || utf8.RuneCountInString(note) > MaxResolveNote:
		return Allocation{}, apperr.InvalidField("note", "credit.err_resolve_note_long").With(map[string]any{"Max": MaxResolveNote})
	}
	a, err := s.Allocation(ctx, actor, id)
	if err != nil {
		return Allocation{}, err
	}
	if a.State != AllocationUnknown {
		return Allocation{}, apperr.New(apperr.Conflict, "", "credit.err_not_unknown")
	}
	status, outcome := store.ItemFailed, "not_applied"
	if applied {
		status, outcome = store.ItemOK, "applied"
	}
	entry := actor.Entry("credit.allocation.resolve", a.Uin, map[string]string{"allocation": strconv.FormatInt(a.ID, 10),
		"job": strconv.FormatInt(a.JobID, 10), "outcome": outcome, "note": note, "amount": a.Amount, "target": a.Target})
	err = s.ledger.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.FinishItem(ctx, a.JobID, a.JobSeq, status, CodeResolvedByHand, a.RequestId, nil); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, entry)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		// Read back or settled by someone else meanwhile.
		return Allocation{}, apperr.New(apperr.Conflict, "", "credit.err_not_unknown").Because(err)
	}
	if err != nil {
		return Allocation{}, fmt.Errorf("resolve allocation %d: %w", id, err)
	}
	s.forget(a.Target, a.Uin)
	return s.Allocation(ctx, actor, id)
}
