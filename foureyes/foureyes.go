// Package foureyes is four-eyes approval: with it switched on (by an
// admin), the writes that cost the most when they are wrong — allocations
// above a set amount, take-backs that leave a customer with no credit,
// every suspension — wait in an approval request until a second person
// approves them; nothing reaches the partner API before.
//
// It is the jobs engine's gate (jobs.Gate): every path that writes (the
// customer pages, credit allocation, bulk jobs, the command line) stores
// its writes job through jobs.Service.SubmitWrites, whose transaction asks
// the gate first. A held job is not stored; its intents and parameters
// are kept in the request. Approving submits exactly those intents again,
// in the requester's name, with WriteParams.Approval set; the gate lets
// them go only for an approved, unexpired, unused request for exactly
// those writes, and marks it used in the same transaction, so a second
// approval or a replayed form cannot submit twice.
package foureyes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Clients gives the partner API client a customer's credit is read with:
// the distributor's (reseller 0) or a second-level reseller's own.
type Clients interface {
	ActAs(ctx context.Context, reseller uint64) (*partnerapi.Client, error)
}

// Writes is what approving needs of the jobs: storing the approved writes
// and waiting a while for their outcome.
type Writes interface {
	SubmitWrites(ctx context.Context, actor audit.Actor, title string, params jobs.WriteParams, intents []jobs.WriteIntent) (store.Job, error)
	Await(ctx context.Context, id int64, wait time.Duration) (jobs.Outcome, error)
}

// Options holds what the service needs.
type Options struct {
	DB      *store.DB
	Clients Clients
	Now     func() time.Time // the clock; time.Now when nil
	// WriteWait is how long an approver waits for the approved writes'
	// outcome before the page shows them as still running; 10 s when zero.
	WriteWait time.Duration
	Logger    *slog.Logger
}

// Service is four-eyes approval: the gate, the settings and the requests.
type Service struct {
	db        *store.DB
	clients   Clients
	writes    Writes
	now       func() time.Time
	writeWait time.Duration
	logger    *slog.Logger

	mu    sync.Mutex
	facts map[factKey]available
}

// factFresh is how long a credit figure read before a submission may
// decide a take-back: long enough for the submission that read it, too
// short for anyone's later one.
const factFresh = time.Minute

// New returns the service. It approves nothing until UseWrites is called.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WriteWait <= 0 {
		o.WriteWait = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: o.DB, clients: o.Clients, now: o.Now, writeWait: o.WriteWait, logger: o.Logger, facts: map[factKey]available{}}
}

// UseWrites gives the service the jobs it submits approved writes to. The
// jobs service is built first and then gated by this one, so the two are
// joined after both exist.
func (s *Service) UseWrites(w Writes) { s.writes = w }

// Message ids of the service's errors.
const (
	msgForbidden    = "approvals.forbidden"
	msgNotFound     = "approvals.not_found"
	msgOwnRequest   = "approvals.own_request"
	msgDecided      = "approvals.decided"
	msgExpired      = "approvals.expired"
	msgNotApproved  = "approvals.not_approved"
	msgMismatch     = "approvals.mismatch"
	msgBadReason    = "approvals.bad_reason"
	msgBadThreshold = "approvals.bad_threshold"
	msgBadExpiry    = "approvals.bad_expiry"
	msgNeedsUser    = "approvals.needs_user"
)

// MaxReason bounds a rejection's reason.
const MaxReason = 500

// Prepare reads, at a person's priority and never from the cache, the
// available credit of every customer the writes take credit back from,
// for the gate's decision on them. The gate runs inside the database's
// single write transaction, where no partner API call may wait, so the
// figure is read here, before SubmitWrites, and used once. Callers that
// take credit back call it just before SubmitWrites; without it (or when
// it fails) the gate holds every take-back for approval, which is the
// safe side. It reads nothing while four-eyes is off.
func (s *Service) Prepare(ctx context.Context, params jobs.WriteParams, intents []jobs.WriteIntent) error {
	set, err := s.Settings(ctx)
	if err != nil || !set.Enabled {
		return err
	}
	var uins []uint64
	for _, w := range intents {
		if w.Action != partnerapi.ActionAllocateCustomerCredit || w.ClientUin == 0 {
			continue
		}
		if d, err := decimal.NewFromString(strings.TrimSpace(w.AddedCredit)); err == nil && d.IsNegative() && !slices.Contains(uins, w.ClientUin) {
			uins = append(uins, w.ClientUin)
		}
	}
	if len(uins) == 0 {
		return nil
	}
	c, err := s.clients.ActAs(ctx, params.AsReseller)
	if err != nil {
		return fmt.Errorf("read credit before take-backs: %w", err)
	}
	ctx = partnerapi.WithPriority(ctx, partnerapi.Interactive)
	for batch := range slices.Chunk(uins, 50) {
		resp, err := c.QueryCreditByUinList(ctx, &partnerapi.QueryCreditByUinListRequest{UinList: batch})
		if err != nil {
			return fmt.Errorf("read credit before take-backs: %w", err)
		}
		at := s.now()
		s.mu.Lock()
		for k, f := range s.facts {
			// Figures no submission used (a preview never confirmed) go.
			if at.Sub(f.at) > factFresh {
				delete(s.facts, k)
			}
		}
		for _, d := range resp.Data {
			s.facts[factKey{params.AsReseller, d.Uin}] = available{amount: d.RemainingCredit.Decimal(), at: at}
		}
		s.mu.Unlock()
	}
	return nil
}

// fact takes a fresh figure for a take-back's decision: each figure read
// by Prepare decides once.
func (s *Service) fact(k factKey) (decimal.Decimal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.facts[k]
	delete(s.facts, k)
	if !ok || s.now().Sub(f.at) > factFresh {
		return decimal.Decimal{}, false
	}
	return f.amount, true
}

// Admit is the gate (jobs.Gate): writes the policy holds become a pending
// request (its id returned, nothing else stored); writes carrying an
// approval go only when it is valid for them, and use it up.
func (s *Service) Admit(ctx context.Context, tx *store.Tx, actor audit.Actor, title string, params jobs.WriteParams, intents []jobs.WriteIntent) (int64, error) {
	if params.Approval != 0 {
		return 0, s.admitApproved(ctx, tx, actor, params, intents)
	}
	set, err := s.Settings(ctx)
	if err != nil {
		return 0, fmt.Errorf("four-eyes gate: %w", err)
	}
	if !set.Enabled {
		return 0, nil
	}
	why := holds(set, params, intents, s.fact)
	if len(why) == 0 {
		return 0, nil
	}
	ib, pb, err := marshalWrites(params, intents)
	if err != nil {
		return 0, fmt.Errorf("four-eyes gate: %w", err)
	}
	now := s.now()
	switch id, err := tx.PendingApprovalFor(ctx, actor.UserID, ib, pb, now); {
	case err == nil:
		return id, nil // the same writes asked for again: the waiting request stands
	case !errors.Is(err, store.ErrNotFound):
		return 0, fmt.Errorf("four-eyes gate: %w", err)
	}
	a, err := tx.AddApprovalRequest(ctx, store.ApprovalRequest{
		RequestedBy: actor.UserID, RequestedByName: actor.Username, OnBehalfOf: actor.OnBehalfOf(), Title: title,
		Intents: ib, Params: pb, Holds: strings.Join(why, ","), CustomerUin: intents[0].ClientUin, Writes: len(intents),
		Amount: totalAllocated(intents), ExpiresAt: now.Add(set.Expiry), CreatedAt: now,
	})
	if err != nil {
		return 0, fmt.Errorf("four-eyes gate: %w", err)
	}
	_, err = tx.AppendAudit(ctx, actor.Entry("approval.request", a.CustomerUin, map[string]string{
		"request": strconv.FormatInt(a.ID, 10), "title": title, "writes": strconv.Itoa(a.Writes), "amount": a.Amount,
		"holds": a.Holds, "as_reseller": formatUin(params.AsReseller), "expires": a.ExpiresAt.UTC().Format(time.RFC3339),
	}))
	if err != nil {
		return 0, fmt.Errorf("four-eyes gate: %w", err)
	}
	return a.ID, nil
}

// admitApproved lets approved writes go once: the request must be
// approved, unexpired and unused, the writes exactly its writes, and the
// job the requester's.
func (s *Service) admitApproved(ctx context.Context, tx *store.Tx, actor audit.Actor, params jobs.WriteParams, intents []jobs.WriteIntent) error {
	a, err := tx.ApprovalRequestByID(ctx, params.Approval)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(apperr.Conflict, "", msgNotApproved).Because(err)
	}
	if err != nil {
		return err
	}
	switch {
	case a.State == store.ApprovalUsed:
		return apperr.New(apperr.Conflict, "", msgDecided).Because(fmt.Errorf("approval request %d was used", a.ID))
	case a.State != store.ApprovalApproved:
		return apperr.New(apperr.Conflict, "", msgNotApproved).Because(fmt.Errorf("approval request %d is %s", a.ID, a.State))
	case !s.now().Before(a.ExpiresAt):
		return apperr.New(apperr.Conflict, "", msgExpired).Because(fmt.Errorf("approval request %d expired", a.ID))
	case actor.UserID != a.RequestedBy:
		return apperr.New(apperr.Conflict, "", msgMismatch).Because(fmt.Errorf("approval request %d is user %d's, not %d's", a.ID, a.RequestedBy, actor.UserID))
	}
	ib, pb, err := marshalWrites(params, intents)
	if err != nil {
		return err
	}
	if ib != a.Intents || pb != a.Params {
		return apperr.New(apperr.Conflict, "", msgMismatch).Because(fmt.Errorf("approval request %d is for other writes", a.ID))
	}
	return tx.UseApprovalRequest(ctx, a.ID)
}

// marshalWrites is the stored form of the writes and their parameters,
// the approval left out: what a request holds and an approval must match.
func marshalWrites(params jobs.WriteParams, intents []jobs.WriteIntent) (string, string, error) {
	params.Approval = 0
	ib, err := json.Marshal(intents)
	if err != nil {
		return "", "", err
	}
	pb, err := json.Marshal(params)
	if err != nil {
		return "", "", err
	}
	return string(ib), string(pb), nil
}

func formatUin(uin uint64) string {
	if uin == 0 {
		return ""
	}
	return strconv.FormatUint(uin, 10)
}

// Request is an approval request as people see it.
type Request struct {
	store.ApprovalRequest
	Intents []jobs.WriteIntent
	Params  jobs.WriteParams
	// State is the stored state, a pending request past its time shown
	// as expired.
	State string
	// CustomerName is the first write's customer's name from the customers
	// table, "" when it is not there (a reseller, for a pool).
	CustomerName string
	// Own: the viewer asked for it. MayDecide: the viewer may approve or
	// reject it now.
	Own, MayDecide bool
}

// HoldReasons are the policy's reasons the request was held for.
func (r Request) HoldReasons() []string {
	if r.Holds == "" {
		return nil
	}
	return strings.Split(r.Holds, ",")
}

// sees: the partner's own people who make writes see every request; a
// reseller's login sees its reseller's.
func sees(actor audit.Actor, a store.ApprovalRequest) bool {
	switch {
	case !actor.Can(auth.WriteCustomers) && !actor.Can(auth.WriteCredit):
		return false
	case actor.Role == auth.RoleSubagent:
		return actor.SubagentUin != 0 && a.OnBehalfOf == actor.SubagentUin
	}
	return true
}

// mayDecide: a second person of the partner's own — an admin or staff,
// never the requester, never a reseller's login (a reseller's logins are
// the reseller's own people: the control is the distributor's, whose
// admin switches it on) — holding the permission each write needs.
func mayDecide(actor audit.Actor, a store.ApprovalRequest, intents []jobs.WriteIntent) bool {
	if actor.UserID == 0 || actor.UserID == a.RequestedBy || (actor.Role != auth.RoleAdmin && actor.Role != auth.RoleStaff) {
		return false
	}
	for _, w := range intents {
		for _, p := range permissionsFor(w.Action) {
			if !actor.Can(p) {
				return false
			}
		}
	}
	return true
}

// permissionsFor is what making a write needs.
func permissionsFor(action string) []auth.Permission {
	switch action {
	case partnerapi.ActionAllocateCustomerCredit:
		return []auth.Permission{auth.WriteCredit}
	case partnerapi.ActionAllocateCreditPool:
		return []auth.Permission{auth.WriteCredit, auth.WriteSubagents}
	case partnerapi.ActionApproveSubAgentApply:
		return []auth.Permission{auth.WriteCustomers, auth.WriteSubagents}
	}
	return []auth.Permission{auth.WriteCustomers}
}

func (s *Service) view(ctx context.Context, actor audit.Actor, a store.ApprovalRequest) (Request, error) {
	r := Request{ApprovalRequest: a, State: a.State, Own: actor.UserID != 0 && actor.UserID == a.RequestedBy}
	if c, err := s.db.CustomerByUin(ctx, a.CustomerUin); err == nil {
		r.CustomerName = c.Name
	}
	if err := json.Unmarshal([]byte(a.Intents), &r.Intents); err != nil {
		return Request{}, fmt.Errorf("approval request %d: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(a.Params), &r.Params); err != nil {
		return Request{}, fmt.Errorf("approval request %d: %w", a.ID, err)
	}
	if r.State == store.ApprovalPending && !s.now().Before(a.ExpiresAt) {
		r.State = store.ApprovalExpired
	}
	// An approved request whose writes were never stored (the portal
	// stopped in between) may be sent again: the gate still sends it once.
	unsent := r.State == store.ApprovalApproved && a.JobID == 0 && s.now().Before(a.ExpiresAt)
	r.MayDecide = (r.State == store.ApprovalPending || unsent) && mayDecide(actor, a, r.Intents)
	return r, nil
}

// List says which requests a listing shows.
type List string

// The listings.
const (
	ListPending List = "pending" // waiting for a decision
	ListDecided List = "decided" // approved, rejected, expired or used
	ListMine    List = "mine"    // the viewer's own, any state
)

// ParseList reads a listing's name; "" is the pending requests.
func ParseList(s string) (List, bool) {
	switch l := List(s); l {
	case "":
		return ListPending, true
	case ListPending, ListDecided, ListMine:
		return l, true
	}
	return "", false
}

// Listing is a page of requests.
type Listing struct {
	Requests []Request
	Total    int
	Page     int
	Pages    int
}

// PageSize is how many requests a page lists.
const PageSize = 50

// Requests lists the requests the actor may see, newest first.
func (s *Service) Requests(ctx context.Context, actor audit.Actor, list List, page int) (Listing, error) {
	if !actor.Can(auth.WriteCustomers) && !actor.Can(auth.WriteCredit) {
		return Listing{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	s.sweep(ctx)
	page = max(page, 1)
	f := store.ApprovalFilter{Limit: PageSize, Offset: (page - 1) * PageSize}
	if actor.Role == auth.RoleSubagent {
		uin := actor.SubagentUin
		f.OnBehalfOf = &uin
	}
	switch list {
	case ListPending:
		f.States = []string{store.ApprovalPending}
	case ListDecided:
		f.States = []string{store.ApprovalApproved, store.ApprovalRejected, store.ApprovalExpired, store.ApprovalUsed}
	case ListMine:
		f.RequestedBy = actor.UserID
		if actor.UserID == 0 {
			return Listing{Page: 1, Pages: 1}, nil
		}
	}
	rows, total, err := s.db.ListApprovalRequests(ctx, f)
	if err != nil {
		return Listing{}, err
	}
	l := Listing{Total: total, Page: page, Pages: max(1, (total+PageSize-1)/PageSize)}
	for _, a := range rows {
		r, err := s.view(ctx, actor, a)
		if err != nil {
			return Listing{}, err
		}
		l.Requests = append(l.Requests, r)
	}
	return l, nil
}

// Pending counts the requests waiting that the actor may see, for the
// navigation; 0 for those who see none.
func (s *Service) Pending(ctx context.Context, actor audit.Actor) (int, error) {
	if !actor.Can(auth.WriteCustomers) && !actor.Can(auth.WriteCredit) {
		return 0, nil
	}
	var behalf *uint64
	if actor.Role == auth.RoleSubagent {
		uin := actor.SubagentUin
		behalf = &uin
	}
	return s.db.CountPendingApprovalRequests(ctx, behalf, s.now())
}

// Request returns one request the actor may see.
func (s *Service) Request(ctx context.Context, actor audit.Actor, id int64) (Request, error) {
	s.sweep(ctx)
	a, err := s.db.ApprovalRequestByID(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Request{}, apperr.New(apperr.NotFound, "", msgNotFound).Because(err)
	case err != nil:
		return Request{}, err
	case !sees(actor, a):
		return Request{}, apperr.New(apperr.NotFound, "", msgNotFound).Because(fmt.Errorf("approval request %d is not for %s", id, actor.Username))
	}
	return s.view(ctx, actor, a)
}

// decidable loads a request for a decision, refusing what the actor may
// not decide; a request past its time is marked expired (and audited).
func (s *Service) decidable(ctx context.Context, actor audit.Actor, id int64) (Request, error) {
	if actor.UserID == 0 {
		return Request{}, apperr.New(apperr.Forbidden, "", msgNeedsUser)
	}
	r, err := s.Request(ctx, actor, id)
	if err != nil {
		return Request{}, err
	}
	switch {
	case r.Own:
		return Request{}, apperr.New(apperr.Forbidden, "", msgOwnRequest)
	case !mayDecide(actor, r.ApprovalRequest, r.Intents):
		return Request{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	case r.State == store.ApprovalExpired:
		s.sweep(ctx)
		return Request{}, apperr.New(apperr.Conflict, "", msgExpired)
	}
	return r, nil
}

// Decision is what became of an approval: the request as it then stands
// and, once approved, its writes job with the outcome so far.
type Decision struct {
	Request Request
	Outcome jobs.Outcome // zero when rejected
}

// Approve approves a pending request as a second person and submits its
// writes, in the requester's name (they see the result), with the
// approval, then waits a while for their outcome. The state changes only
// from pending, and the gate uses an approval once, so a second approval
// (a double click, a replayed form) sends nothing. An approved request
// whose job was never stored is submitted again.
func (s *Service) Approve(ctx context.Context, actor audit.Actor, id int64) (Decision, error) {
	r, err := s.decidable(ctx, actor, id)
	if err != nil {
		return Decision{}, err
	}
	if !r.MayDecide {
		return Decision{}, apperr.New(apperr.Conflict, "", msgDecided)
	}
	requester, err := s.db.UserByID(ctx, r.RequestedBy)
	if err != nil {
		return Decision{}, fmt.Errorf("approve request %d: %w", id, err)
	}
	if r.State == store.ApprovalPending {
		if err := s.decideApproved(ctx, actor, r); err != nil {
			return Decision{}, err
		}
	}
	// Approved, the writes are submitted whatever becomes of the request
	// that approved them: a hang-up must not leave an approval unsent.
	sctx := context.WithoutCancel(ctx)
	params := r.Params
	params.Approval = id
	job, err := s.writes.SubmitWrites(sctx, audit.UserActor(requester, actor.Addr), r.Title, params, r.Intents)
	if err != nil {
		s.audit(sctx, actor.Entry("approval.submit", r.CustomerUin, map[string]string{"request": strconv.FormatInt(id, 10)}), err)
		return Decision{}, fmt.Errorf("approve request %d: %w", id, err)
	}
	if err := s.db.WriteDetached(sctx, func(tx *store.Tx) error { return tx.SetApprovalJob(ctx, id, job.ID) }); err != nil {
		return Decision{}, fmt.Errorf("approve request %d: %w", id, err)
	}
	out, err := s.writes.Await(ctx, job.ID, s.writeWait)
	if err != nil {
		return Decision{}, err
	}
	if out.Ended {
		s.sweep(sctx)
	}
	r, err = s.Request(sctx, actor, id)
	return Decision{Request: r, Outcome: out}, err
}

// decideApproved moves a pending request to approved, with its audit row.
func (s *Service) decideApproved(ctx context.Context, actor audit.Actor, r Request) error {
	id := r.ID
	err := s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.DecideApprovalRequest(ctx, id, store.ApprovalPending, store.ApprovalApproved, actor.UserID, actor.Username, ""); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, actor.Entry("approval.approve", r.CustomerUin, map[string]string{
			"request": strconv.FormatInt(id, 10), "requested_by": r.RequestedByName, "title": r.Title, "amount": r.Amount,
		}))
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return apperr.New(apperr.Conflict, "", msgDecided).Because(err)
	}
	if err != nil {
		return fmt.Errorf("approve request %d: %w", id, err)
	}
	return nil
}

// Reject refuses a pending request, with a reason the requester reads.
func (s *Service) Reject(ctx context.Context, actor audit.Actor, id int64, reason string) (Request, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxReason {
		return Request{}, apperr.InvalidField("reason", msgBadReason).With(map[string]any{"Max": MaxReason})
	}
	r, err := s.decidable(ctx, actor, id)
	if err != nil {
		return Request{}, err
	}
	err = s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.DecideApprovalRequest(ctx, id, store.ApprovalPending, store.ApprovalRejected, actor.UserID, actor.Username, reason); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, actor.Entry("approval.reject", r.CustomerUin, map[string]string{
			"request": strconv.FormatInt(id, 10), "requested_by": r.RequestedByName, "title": r.Title, "amount": r.Amount, "reason": reason,
		}))
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return Request{}, apperr.New(apperr.Conflict, "", msgDecided).Because(err)
	}
	if err != nil {
		return Request{}, fmt.Errorf("reject request %d: %w", id, err)
	}
	return s.Request(context.WithoutCancel(ctx), actor, id)
}

// audit appends a failed action's row; an error is logged, not returned:
// the caller is already reporting the failure.
func (s *Service) audit(ctx context.Context, e store.AuditEntry, cause error) {
	e.Outcome = store.OutcomeFailed
	if ae, ok := apperr.As(cause); ok {
		e.Code = ae.MessageID
	}
	err := s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		_, err := tx.AppendAudit(ctx, e)
		return err
	})
	if err != nil {
		s.logger.Error("audit", "action", e.Action, "err", err)
	}
}

// sweep marks the pending requests whose time ran out expired, and records
// the outcome of approved writes whose job has ended, each with its audit
// row. It runs whenever requests are read, so what a page shows is so in
// the log; its failures are logged: the page can still be shown.
func (s *Service) sweep(ctx context.Context) {
	if any, err := s.db.HasExpiredPending(ctx, s.now()); err != nil || any {
		s.expire(ctx)
	}
	ended, err := s.db.ApprovalsAwaitingOutcome(ctx)
	if err != nil {
		s.logger.Error("approval outcomes", "err", err)
		return
	}
	for _, a := range ended {
		if err := s.recordOutcome(ctx, a); err != nil {
			s.logger.Error("approval outcome", "request", a.ID, "err", err)
		}
	}
}

// Sweep is the periodic sweep (see sweep): requests expire and outcomes
// are audited even while nobody opens Approvals.
func (s *Service) Sweep(ctx context.Context) { s.sweep(ctx) }

// expire marks the pending requests past their time expired, each with
// its audit row.
func (s *Service) expire(ctx context.Context) {
	err := s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		expired, err := tx.ExpireApprovalRequests(ctx, s.now())
		if err != nil {
			return err
		}
		for _, a := range expired {
			e := audit.System().Entry("approval.expire", a.CustomerUin, map[string]string{
				"request": strconv.FormatInt(a.ID, 10), "requested_by": a.RequestedByName, "title": a.Title})
			if _, err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.logger.Error("expire approval requests", "err", err)
	}
}

// recordOutcome audits how an approved request's writes ended, once.
func (s *Service) recordOutcome(ctx context.Context, a store.ApprovalRequest) error {
	j, err := s.db.JobByID(ctx, a.JobID)
	if err != nil {
		return err
	}
	counts, err := s.db.CountItems(ctx, a.JobID)
	if err != nil {
		return err
	}
	e := audit.System().Entry("approval.outcome", a.CustomerUin, map[string]string{
		"request": strconv.FormatInt(a.ID, 10), "job": strconv.FormatInt(a.JobID, 10), "status": j.Status,
		"ok": strconv.Itoa(counts[store.ItemOK]), "failed": strconv.Itoa(counts[store.ItemFailed] + counts[store.ItemSkipped]),
		"unknown": strconv.Itoa(counts[store.ItemUnknown] + counts[store.ItemSent] + counts[store.ItemPending]),
	})
	switch {
	case counts[store.ItemFailed]+counts[store.ItemSkipped] > 0 || j.Status != store.JobDone:
		e.Outcome = store.OutcomeFailed
	case counts[store.ItemUnknown] > 0:
		e.Outcome = store.OutcomeUnknown
	}
	err = s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.SetApprovalOutcome(ctx, a.ID, j.Status); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, e)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // recorded by someone else meanwhile
	}
	return err
}
