// Package applications is the partner's inbox of applications: accounts
// that asked to become its customers (QueryPendingClientsV2) and, for a
// distributor, to become its second-level resellers
// (QueryPendingSubAgentsV2), and the decisions on them (ApproveClientApply,
// ApproveSubAgentApply). The lists are read through the API cache; every
// decision is a write job, so its outcome is recorded before and after the
// call and an unknown one is read back, never sent again blindly.
package applications

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// The kinds of application.
const (
	Customer = "customer" // to become a customer of the partner
	Reseller = "reseller" // to become a second-level reseller of the distributor
)

// The decisions on an application, as the partner API names them.
const (
	Pass   = "pass"
	Reject = "reject"
)

// Limits of a decision.
const (
	// MaxBulk is how many applications one decision may cover: one write
	// job, at most this many items.
	MaxBulk = 50
	// MaxReason is the longest reason for a rejection, in characters.
	MaxReason = jobs.MaxRejectReason
	// maxUinDigits is the most digits a UIN has (a uint64).
	maxUinDigits = 20
	// maxRefresh is how many approved customers one decision reads back
	// into the customers table at once; the rest come with the next
	// directory refresh.
	maxRefresh = 20
)

// Message ids of the service's errors.
const (
	msgForbidden   = "applications.forbidden"
	msgBadKind     = "applications.bad_kind"
	msgBadDecision = "applications.bad_decision"
	msgNeedReason  = "applications.reason_needed"
	msgLongReason  = "applications.reason_too_long"
	msgBadReason   = "applications.reason_invalid"
	msgNoneChosen  = "applications.none_chosen"
	msgTooMany     = "applications.too_many"
	msgBadUin      = "applications.bad_uin"
	msgNotPending  = "applications.not_pending"
	msgListPending = "applications.list_pending"
	msgNotFound    = "applications.decision_not_found"
)

// Clients gives partner API clients: the one the actor's own business goes
// through (the distributor's key, or a reseller login's own), and the
// distributor's, which finds any customer of the partner.
type Clients interface {
	ActingFor(ctx context.Context, actor audit.Actor) (*partnerapi.Client, uint64, error)
	Distributor(ctx context.Context) (*partnerapi.Client, error)
}

// Writes is the jobs engine's write path.
type Writes interface {
	SubmitWrites(ctx context.Context, actor audit.Actor, title string, params jobs.WriteParams, intents []jobs.WriteIntent) (store.Job, error)
	Await(ctx context.Context, id int64, wait time.Duration) (jobs.Outcome, error)
	CheckAgain(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error)
	Writes(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error)
}

// Options configures the service.
type Options struct {
	Clients Clients
	Writes  Writes
	Cache   *apicache.Cache
	// DB is the customers table an approved customer is read into.
	DB *store.DB
	// Wait is how long a decision waits for its outcome; 15 s when zero.
	Wait   time.Duration
	Logger *slog.Logger
}

// Service holds the applications use cases.
type Service struct {
	clients Clients
	writes  Writes
	cache   *apicache.Cache
	db      *store.DB
	wait    time.Duration
	logger  *slog.Logger
}

// New returns the applications service.
func New(o Options) (*Service, error) {
	if o.Clients == nil || o.Writes == nil || o.Cache == nil || o.DB == nil {
		return nil, errors.New("applications: missing dependency")
	}
	if o.Wait <= 0 {
		o.Wait = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{clients: o.Clients, writes: o.Writes, cache: o.Cache, db: o.DB, wait: o.Wait, logger: o.Logger}, nil
}

// Applicant is one pending application.
type Applicant struct {
	Kind   string
	Uin    uint64
	Name   string
	Email  string
	Mobile string // masked by the API
	// Type is "personal" or "company" for a customer, as the API says it.
	Type   string
	Status string
	// AuthState is a reseller applicant's identity verification: -1 no
	// file, 0 pending, 1 under review, 2 refused, 3 approved.
	AuthState   int64
	MaterialURL string
	// Applied is when the application was made; zero when the API's time
	// could not be read, in which case AppliedText is what it said.
	Applied     time.Time
	AppliedText string
}

// Pending is the applications page: each list with its age.
type Pending struct {
	Customers apicache.Figure[[]Applicant]
	// Resellers is read only for ShowResellers.
	Resellers     apicache.Figure[[]Applicant]
	ShowResellers bool
	// Who may decide which.
	DecideCustomers, DecideResellers bool
	// ActingAs is the reseller whose applications these are; 0 for the
	// distributor's.
	ActingAs uint64
	Now      time.Time
}

// mayView checks the actor may see applications at all: those who onboard
// customers. Finance, read-only, does not hold that permission.
func mayView(actor audit.Actor) error {
	if !actor.Can(auth.WriteCustomers) {
		return apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	return nil
}

// seesResellers: the distributor's own people with the permission; a
// reseller login has no second-level resellers of its own.
func seesResellers(actor audit.Actor) bool {
	return actor.Can(auth.ViewSubagents) && actor.OnBehalfOf() == 0
}

// Pending reads the pending applications the actor may see: the customer
// applications of the partner it acts for (a reseller login with its
// reseller's own key), and the reseller applications for the distributor's
// people. A list that cannot be read carries its error; the other is still
// shown.
func (s *Service) Pending(ctx context.Context, actor audit.Actor, mode apicache.Mode) (Pending, error) {
	if err := mayView(actor); err != nil {
		return Pending{}, err
	}
	p := Pending{ShowResellers: seesResellers(actor), Now: s.cache.Now(), ActingAs: actor.OnBehalfOf()}
	p.DecideCustomers = actor.Can(auth.WriteCustomers)
	p.DecideResellers = p.ShowResellers && actor.Can(auth.WriteSubagents)
	c, _, err := s.clients.ActingFor(ctx, actor)
	if err != nil {
		p.Customers = apicache.Failed[[]Applicant](err)
		p.Resellers = apicache.Failed[[]Applicant](err)
		return p, nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.Customers = s.list(ctx, c, Customer, mode) })
	if p.ShowResellers {
		wg.Go(func() { p.Resellers = s.list(ctx, c, Reseller, mode) })
	}
	wg.Wait()
	return p, nil
}

// allPages is the cache key's parameters of a whole list, read page by page.
type allPages struct {
	All      bool
	PageSize int64
}

// listPageSize is the largest page the pending lists document.
const listPageSize = 100

// list reads one whole pending list through the cache.
func (s *Service) list(ctx context.Context, c *partnerapi.Client, kind string, mode apicache.Mode) apicache.Figure[[]Applicant] {
	params := allPages{All: true, PageSize: listPageSize}
	if kind == Reseller {
		return apicache.Read(ctx, s.cache, c.SecretID(), apicache.Figures, mode, partnerapi.ActionQueryPendingSubAgentsV2, params,
			func(ctx context.Context) ([]Applicant, error) {
				out := []Applicant{}
				for a, err := range c.AllQueryPendingSubAgentsV2(ctx, partnerapi.QueryPendingSubAgentsV2Request{PageSize: listPageSize}) {
					if err != nil {
						return nil, err
					}
					at, text := apiTime(a.ApplyTime)
					out = append(out, Applicant{Kind: Reseller, Uin: uint64(max(a.SubAgentUin, 0)), Name: a.Name, Email: a.Email, Mobile: a.Mobile,
						Status: a.Status, AuthState: a.AuthState, MaterialURL: a.MaterialUrl, Applied: at, AppliedText: text})
				}
				return out, nil
			})
	}
	return apicache.Read(ctx, s.cache, c.SecretID(), apicache.Figures, mode, partnerapi.ActionQueryPendingClientsV2, params,
		func(ctx context.Context) ([]Applicant, error) {
			out := []Applicant{}
			for a, err := range c.AllQueryPendingClientsV2(ctx, partnerapi.QueryPendingClientsV2Request{PageSize: listPageSize}) {
				if err != nil {
					return nil, err
				}
				at, text := apiTime(a.ApplyTime)
				out = append(out, Applicant{Kind: Customer, Uin: a.ClientUin, Name: a.Name, Email: a.Email, Mobile: a.Mobile,
					Type: a.Type, Status: a.Status, Applied: at, AppliedText: text})
			}
			return out, nil
		})
}

// apiTime reads a time the API wrote ("2006-01-02 15:04:05", UTC+8); when
// it cannot, the text is kept to be shown as it was.
func apiTime(s string) (time.Time, string) {
	t, err := partnerapi.ParseTime(s)
	if err != nil {
		return time.Time{}, s
	}
	return t, ""
}

// Decision is a person's decision on one or more applications of one kind,
// as typed: the service checks every part.
type Decision struct {
	Kind    string   // Customer or Reseller
	Uins    []string // the applicants' UINs
	Verdict string   // Pass or Reject
	Reason  string   // why, for a rejection
}

// checked is a decision that passed the rules.
type checked struct {
	kind, verdict, reason string
	uins                  []uint64
}

// check applies the rules that need no API call: who may decide what, and
// every field's bounds. Field errors are reported together.
func check(actor audit.Actor, d Decision) (checked, error) {
	var c checked
	switch d.Kind {
	case Customer:
		if !actor.Can(auth.WriteCustomers) {
			return c, apperr.New(apperr.Forbidden, "", msgForbidden)
		}
	case Reseller:
		// A reseller login never decides on the distributor's resellers,
		// whatever the form it posts says.
		if !actor.Can(auth.WriteSubagents) || actor.OnBehalfOf() != 0 {
			return c, apperr.New(apperr.Forbidden, "", msgForbidden)
		}
	default:
		return c, apperr.InvalidField("kind", msgBadKind)
	}
	c.kind = d.Kind
	var errs []error
	switch d.Verdict {
	case Pass:
	case Reject:
		reason := strings.TrimSpace(d.Reason)
		switch {
		case !utf8.ValidString(reason) || strings.ContainsFunc(reason, unicode.IsControl):
			errs = append(errs, apperr.InvalidField("reason", msgBadReason))
		case reason == "":
			errs = append(errs, apperr.InvalidField("reason", msgNeedReason))
		case utf8.RuneCountInString(reason) > MaxReason:
			errs = append(errs, apperr.InvalidField("reason", msgLongReason).With(map[string]any{"Max": MaxReason}))
		}
		c.reason = reason
	default:
		errs = append(errs, apperr.InvalidField("decision", msgBadDecision))
	}
	c.verdict = d.Verdict
	seen := map[uint64]bool{}
	for _, raw := range d.Uins {
		uin, ok := parseUin(raw)
		if !ok {
			errs = append(errs, apperr.InvalidField("uin", msgBadUin))
			break
		}
		if !seen[uin] {
			seen[uin] = true
			c.uins = append(c.uins, uin)
		}
	}
	switch {
	case len(d.Uins) == 0:
		errs = append(errs, apperr.InvalidField("uin", msgNoneChosen))
	case len(c.uins) > MaxBulk:
		errs = append(errs, apperr.InvalidField("uin", msgTooMany).With(map[string]any{"Max": MaxBulk}))
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, nil
}

// parseUin reads a UIN: 1 to 20 digits, not 0.
func parseUin(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxUinDigits || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	uin, err := strconv.ParseUint(s, 10, 64)
	return uin, err == nil && uin != 0
}

// Decide carries out a decision on applications that are pending for the
// partner the actor acts for: one write job with an item per application,
// sent with that partner's own key, waited for at most the service's
// wait. Nothing is sent when any part of the decision is refused, and in
// particular when a UIN is not among the actor's pending applications. The
// pending lists are forgotten afterwards, so the next view shows the
// truth, and approved customers are read into the customers table.
func (s *Service) Decide(ctx context.Context, actor audit.Actor, d Decision) (jobs.Outcome, error) {
	c, err := check(actor, d)
	if err != nil {
		return jobs.Outcome{}, err
	}
	client, reseller, err := s.clients.ActingFor(ctx, actor)
	if err != nil {
		return jobs.Outcome{}, fmt.Errorf("decide on %s applications: %w", c.kind, err)
	}
	// The list the person saw (or a fresher one) says what is pending for
	// this partner: anything else is someone else's or already decided.
	pending := s.list(ctx, client, c.kind, apicache.Fresh)
	switch {
	case pending.Pending:
		return jobs.Outcome{}, apperr.New(apperr.Busy, "", msgListPending)
	case pending.Err != nil:
		return jobs.Outcome{}, fmt.Errorf("read pending %s applications: %w", c.kind, pending.Err)
	}
	listed := map[uint64]bool{}
	for _, a := range *pending.Value {
		listed[a.Uin] = true
	}
	for _, uin := range c.uins {
		if !listed[uin] {
			return jobs.Outcome{}, apperr.InvalidField("uin", msgNotPending).With(map[string]any{"Uin": strconv.FormatUint(uin, 10)}).
				Because(fmt.Errorf("%d is not pending for partner %d", uin, reseller))
		}
	}
	action := partnerapi.ActionApproveClientApply
	if c.kind == Reseller {
		action = partnerapi.ActionApproveSubAgentApply
	}
	intents := make([]jobs.WriteIntent, len(c.uins))
	for i, uin := range c.uins {
		intents[i] = jobs.WriteIntent{Action: action, ClientUin: uin, ApproveType: c.verdict, RejectReason: c.reason}
	}
	title := fmt.Sprintf("%s %d %s application(s)", c.verdict, len(c.uins), c.kind)
	job, err := s.writes.SubmitWrites(ctx, actor, title, jobs.WriteParams{AsReseller: reseller, Interactive: true}, intents)
	if err != nil {
		return jobs.Outcome{}, fmt.Errorf("decide on %s applications: %w", c.kind, err)
	}
	out, err := s.writes.Await(ctx, job.ID, s.wait)
	if err != nil {
		return jobs.Outcome{}, fmt.Errorf("decide on %s applications: job %d: %w", c.kind, job.ID, err)
	}
	s.settle(ctx, out, nil)
	return out, nil
}

// Decision returns a decision the actor made (or, for those who manage all
// jobs, anyone's), as it stands now. Another kind of job, or someone
// else's, is not found.
func (s *Service) Decision(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error) {
	if err := mayView(actor); err != nil {
		return jobs.Outcome{}, err
	}
	out, err := s.writes.Writes(ctx, actor, id)
	if err != nil {
		return jobs.Outcome{}, err
	}
	if !isDecision(out) {
		return jobs.Outcome{}, apperr.New(apperr.NotFound, "", msgNotFound).Because(fmt.Errorf("job %d decides no application", id))
	}
	return out, nil
}

// CheckAgain reads back, now, the outcomes a decision left unknown, and
// returns it as it then stands.
func (s *Service) CheckAgain(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error) {
	before, err := s.Decision(ctx, actor, id)
	if err != nil {
		return jobs.Outcome{}, err
	}
	out, err := s.writes.CheckAgain(ctx, actor, id)
	if err != nil && len(out.Items) == 0 {
		return jobs.Outcome{}, err
	}
	// Only what became known now still needs its follow-up.
	settled := map[int]bool{}
	for _, it := range before.Items {
		settled[it.Seq] = it.Status == store.ItemOK || it.Status == store.ItemFailed
	}
	s.settle(ctx, out, settled)
	// A read-back that failed leaves the items unknown: shown as such; the
	// error is for the logs.
	if err != nil {
		s.logger.Warn("check decision again", "job", id, "err", err)
	}
	return out, nil
}

// isDecision reports whether a writes job decides on applications only.
func isDecision(out jobs.Outcome) bool {
	if len(out.Items) == 0 {
		return false
	}
	for _, it := range out.Items {
		w, err := jobs.IntentOf(it)
		if err != nil || (w.Action != partnerapi.ActionApproveClientApply && w.Action != partnerapi.ActionApproveSubAgentApply) {
			return false
		}
	}
	return true
}

// settle follows a decision up: the lists it changed are forgotten by the
// cache, so every page (the dashboard's counts included) reads them again,
// and customers it approved are read into the customers table, so they
// appear in the customers list at once. Items in skip were followed up
// before. What cannot be read now comes with the next directory refresh.
func (s *Service) settle(ctx context.Context, out jobs.Outcome, skip map[int]bool) {
	var approved []uint64
	customers, resellers := false, false
	for _, it := range out.Items {
		w, err := jobs.IntentOf(it)
		if err != nil {
			continue
		}
		switch w.Action {
		case partnerapi.ActionApproveClientApply:
			customers = true
			if it.Status == store.ItemOK && w.ApproveType == Pass && !skip[it.Seq] {
				approved = append(approved, w.ClientUin)
			}
		case partnerapi.ActionApproveSubAgentApply:
			resellers = true
		}
	}
	if customers {
		s.cache.InvalidateAction(partnerapi.ActionQueryPendingClientsV2)
		// A reseller's customers and their counts change with its approvals.
		s.cache.InvalidateAction(partnerapi.ActionQueryT1IndirectCustomersDetail)
		s.cache.InvalidateAction(partnerapi.ActionQueryDirectCustomersCredit)
		s.cache.InvalidateAction(partnerapi.ActionQuerySubAgentsDetailV2)
	}
	if resellers {
		s.cache.InvalidateAction(partnerapi.ActionQueryPendingSubAgentsV2)
		s.cache.InvalidateAction(partnerapi.ActionQuerySubAgentsDetailV2)
	}
	if len(approved) == 0 {
		return
	}
	// The person may have gone; the customers should still be read.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	// The distributor's key finds a customer wherever it is bound — its
	// own, or one of its resellers' — and files it under the right owner.
	client, err := s.clients.Distributor(ctx)
	if err != nil {
		s.logger.Warn("read approved customers", "err", err)
		return
	}
	for i, uin := range approved {
		if i == maxRefresh {
			break
		}
		if _, err := jobs.RefreshCustomer(ctx, client, s.db, uin); err != nil {
			s.logger.Warn("read approved customer", "uin", uin, "err", err)
		}
	}
}
