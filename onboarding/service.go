// Package onboarding is how new customers and second-level resellers reach
// the partner: invitation mails and the state of every invitation the
// portal sent, customer accounts created for them (with the SMS code that
// proves their phone), and — when the portal runs on the built-in sandbox —
// the outbox where the mails and codes the sandbox "sent" can be read, so a
// person can finish every flow by hand.
//
// Every partner API write goes through the jobs engine's intent → outcome →
// reconcile path; the SMS code, a mutation the engine does not carry, is
// sent once and audited here. Reads go through the shared API cache.
package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Clients gives the partner API clients the service acts with.
type Clients interface {
	// ActingFor is the client of the actor's own business and the partner
	// it acts as (0: the distributor).
	ActingFor(ctx context.Context, actor audit.Actor) (*partnerapi.Client, uint64, error)
	// ActAs is the client of a partner: the distributor (0) or a reseller.
	ActAs(ctx context.Context, reseller uint64) (*partnerapi.Client, error)
}

// Writes is what the service asks of the jobs service for its writes.
type Writes interface {
	SubmitWrites(ctx context.Context, actor audit.Actor, title string, params jobs.WriteParams, intents []jobs.WriteIntent) (store.Job, error)
	Await(ctx context.Context, id int64, wait time.Duration) (jobs.Outcome, error)
	Writes(ctx context.Context, actor audit.Actor, id int64) (jobs.Outcome, error)
}

// SecretBox keeps a new account's password and SMS code in memory until
// its write is sent.
type SecretBox interface {
	Put(v jobs.AccountSecrets) string
	Drop(ref string)
}

// Sandbox is the built-in sandbox's outbox and its invited party.
type Sandbox interface {
	// Outbox returns the mails and SMS the sandbox sent, oldest first.
	Outbox() ([]Message, error)
	// Accept uses an invitation link as the invited party would; the errors
	// wrap ErrInvitationNotFound, ErrInvitationUsed or ErrInvitationExpired.
	Accept(token string) (clientUin uint64, err error)
}

// RefreshCustomer reads one customer again into the customers table
// (jobs.RefreshCustomer).
type RefreshCustomer func(ctx context.Context, c *partnerapi.Client, db *store.DB, uin uint64) (store.Customer, error)

// Options configures a Service.
type Options struct {
	DB      *store.DB
	Clients Clients
	Writes  Writes
	Secrets SecretBox
	Cache   *apicache.Cache
	// Sandbox is the built-in sandbox; OnSandbox says whether the partner
	// API target is that sandbox right now. The outbox exists only then.
	Sandbox   Sandbox
	OnSandbox func() bool
	// Refresh puts a new customer into the customers table; jobs.RefreshCustomer when nil.
	Refresh RefreshCustomer
	// Wait is how long a person waits for a write before being sent to
	// its job's page; 20 s when zero.
	Wait   time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the onboarding use cases.
type Service struct {
	db        *store.DB
	clients   Clients
	writes    Writes
	secrets   SecretBox
	cache     *apicache.Cache
	sandbox   Sandbox
	onSandbox func() bool
	refresh   RefreshCustomer
	wait      time.Duration
	now       func() time.Time
	logger    *slog.Logger
	codes     *codeBook
	accepted  *tokenSet
}

// New returns the service.
func New(o Options) (*Service, error) {
	if o.DB == nil || o.Clients == nil || o.Writes == nil || o.Secrets == nil || o.Cache == nil {
		return nil, errors.New("onboarding: missing dependency")
	}
	if o.OnSandbox == nil {
		o.OnSandbox = func() bool { return false }
	}
	if o.Refresh == nil {
		o.Refresh = jobs.RefreshCustomer
	}
	if o.Wait <= 0 {
		o.Wait = 20 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		db: o.DB, clients: o.Clients, writes: o.Writes, secrets: o.Secrets, cache: o.Cache, sandbox: o.Sandbox,
		onSandbox: o.OnSandbox, refresh: o.Refresh, wait: o.Wait, now: o.Now, logger: o.Logger,
		codes: newCodeBook(), accepted: newTokenSet(),
	}, nil
}

// Errors every use case may return.
var (
	errForbidden = apperr.New(apperr.Forbidden, "", "error.forbidden")
	errNotFound  = apperr.New(apperr.NotFound, "", "error.not_found")
)

// mayOnboard refuses actors who may not invite or create customers.
func mayOnboard(actor audit.Actor) error {
	if !actor.Can(auth.WriteCustomers) {
		return errForbidden
	}
	return nil
}

// Write statuses a person is told about.
const (
	StatusOK      = "ok"      // the write took effect
	StatusUnknown = "unknown" // it was sent and no answer came: being checked
	StatusPending = "pending" // it has not been sent yet, or is in flight
	StatusFailed  = "failed"  // it was refused
)

// itemStatus is what a person is told of a write item.
func itemStatus(it store.JobItem) string {
	switch it.Status {
	case store.ItemOK:
		return StatusOK
	case store.ItemFailed, store.ItemSkipped:
		return StatusFailed
	case store.ItemUnknown:
		return StatusUnknown
	}
	return StatusPending
}

// submitOne submits one write as a job a person waits for, and waits; the
// job's id is 0 when nothing was submitted.
func (s *Service) submitOne(ctx context.Context, actor audit.Actor, title string, partner uint64, w jobs.WriteIntent) (int64, store.JobItem, error) {
	job, err := s.writes.SubmitWrites(ctx, actor, title, jobs.WriteParams{AsReseller: partner, Interactive: true}, []jobs.WriteIntent{w})
	if err != nil {
		return 0, store.JobItem{}, fmt.Errorf("submit %s: %w", w.Action, err)
	}
	out, err := s.writes.Await(ctx, job.ID, s.wait)
	if err != nil {
		return job.ID, store.JobItem{}, fmt.Errorf("await job %d: %w", job.ID, err)
	}
	if len(out.Items) != 1 {
		return job.ID, store.JobItem{}, fmt.Errorf("job %d has %d items, want 1", job.ID, len(out.Items))
	}
	return job.ID, out.Items[0], nil
}

// refusal is the partner API's refusal recorded on a failed write item, as
// an error the person is shown beside the field it concerns.
func refusal(action string, it store.JobItem, field, messageID string) error {
	return apperr.InvalidField(field, messageID).Because(&partnerapi.APIError{Action: action, Code: it.Code, RequestId: it.RequestId})
}

// summary reads a write item's answer summary.
func summary(it store.JobItem) map[string]string {
	out := map[string]string{}
	if len(it.Result) > 0 {
		_ = json.Unmarshal(it.Result, &out)
	}
	return out
}
