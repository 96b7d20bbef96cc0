// Package handlers serves the portal's pages. Handlers are methods on one
// struct that holds their dependencies through the small interfaces below;
// every route is listed in routes.go. A handler parses the request, calls a
// service, and renders: rules, transactions and audit rows live in the
// services.
package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"resellerportal/apicache"
	"resellerportal/audit"
	"resellerportal/dashboard"
	"resellerportal/jobs"
	"resellerportal/keyring"
	"resellerportal/partnerapi"
	"resellerportal/store"
	"resellerportal/users"
	"resellerportal/web/i18n"
	"resellerportal/web/session"
	"resellerportal/web/static"
)

// signIns is what sign-in and the session middleware need of the users.
type signIns interface {
	SignIn(ctx context.Context, username, password, addr string) (store.User, error)
	SignOut(ctx context.Context, actor audit.Actor, sessionID string) error
	Current(ctx context.Context, id int64) (store.User, error)
	MaySignIn(u store.User) bool
}

// accounts is what a person's own account page needs.
type accounts interface {
	ChangeOwnPassword(ctx context.Context, actor audit.Actor, current, next, confirm, keepSession string) error
	SetLanguage(ctx context.Context, actor audit.Actor, lang string, known func(string) bool) error
	SetTimeZone(ctx context.Context, actor audit.Actor, zone string) error
	Sessions(ctx context.Context, actor audit.Actor, ownerID int64) ([]store.Session, error)
	EndSession(ctx context.Context, actor audit.Actor, ownerID int64, sessionID string) error
}

// userAdmin is what the users pages need.
type userAdmin interface {
	List(ctx context.Context, actor audit.Actor) ([]store.User, error)
	Get(ctx context.Context, actor audit.Actor, id int64) (store.User, error)
	Create(ctx context.Context, actor audit.Actor, in users.Input) (store.User, string, error)
	Update(ctx context.Context, actor audit.Actor, id int64, in users.Input) (store.User, error)
	ResetPassword(ctx context.Context, actor audit.Actor, id int64, keep string) (string, error)
	SetDisabled(ctx context.Context, actor audit.Actor, id int64, disabled bool) (store.User, error)
}

// UserService is everything the pages ask of the users service.
type UserService interface {
	signIns
	accounts
	userAdmin
}

// KeyService is what the API credentials page and API status need.
type KeyService interface {
	Target() keyring.Target
	Forced() bool
	Host() string
	FallbackSecretID() string
	InUse(ctx context.Context) ([]string, error)
	List(ctx context.Context, actor audit.Actor) ([]store.APICredential, error)
	Save(ctx context.Context, actor audit.Actor, in keyring.Input) (keyring.Check, error)
	Delete(ctx context.Context, actor audit.Actor, id int64) error
	Test(ctx context.Context, actor audit.Actor, id int64) (keyring.Check, error)
	SetTarget(ctx context.Context, actor audit.Actor, t keyring.Target) error
}

// AuditLog is what the audit page needs.
type AuditLog interface {
	Read(ctx context.Context, actor audit.Actor, f store.AuditFilter, after int64, newer bool) (audit.Page, error)
	Entry(ctx context.Context, actor audit.Actor, id int64) (store.AuditEntry, error)
	Export(ctx context.Context, actor audit.Actor, f store.AuditFilter, w io.Writer) (int, error)
}

// Figures is what the dashboard needs.
type Figures interface {
	Figures(ctx context.Context, actor audit.Actor, mode apicache.Mode) (dashboard.Figures, error)
}

// JobService is what the jobs pages need.
type JobService interface {
	StartDirectoryRefresh(ctx context.Context, actor audit.Actor) (store.Job, bool, error)
	StartBillsRefresh(ctx context.Context, actor audit.Actor, month string) (store.Job, bool, error)
	Cancel(ctx context.Context, actor audit.Actor, id int64) error
	RunRest(ctx context.Context, actor audit.Actor, id int64) (store.Job, bool, error)
	Job(ctx context.Context, actor audit.Actor, id int64) (jobs.JobDetail, error)
	List(ctx context.Context, actor audit.Actor, limit int) ([]jobs.JobView, error)
	CacheStatus(ctx context.Context, month string) (jobs.CacheStatus, error)
}

// Limiters is what the API status page reads of the budget.
type Limiters interface {
	StatesFor(secretIDs []string) []partnerapi.LimiterState
}

// MetricsHandler serves the Prometheus metrics and records requests.
type MetricsHandler interface {
	Handler() http.Handler
	ObserveHTTP(route, method string, status int, took time.Duration)
}

// Options holds what the handlers need.
type Options struct {
	Users     UserService
	Keys      KeyService
	Audit     AuditLog
	Dashboard Figures
	Jobs      JobService
	Customers CustomerService
	Credit    CreditService
	// Allocations is the credit service's allocations and ledger.
	Allocations AllocationService
	// Bulk is the credit service's bulk allocations.
	Bulk     BulkService
	Limiters Limiters
	Sessions *session.Store
	Catalog  *i18n.Catalog
	Assets   *static.Assets
	Metrics  MetricsHandler
	// Health answers nil while the database answers.
	Health func(ctx context.Context) error
	Logger *slog.Logger
	Now    func() time.Time
	// TrustedProxies are the proxies whose X-Forwarded-For entries are
	// believed; empty trusts none, and the peer is the client.
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, lets a scraper read /metrics with
	// "Authorization: Bearer <token>".
	MetricsToken string
	// Applications and Resellers serve the applications and second-level
	// resellers pages.
	Applications ApplicationService
	Resellers    ResellerService
	// Onboarding serves invitations, new accounts and the sandbox outbox.
	Onboarding OnboardingService
	// Watch serves the low-credit watch: thresholds and the lists.
	Watch WatchService
	// Approvals serves four-eyes approval: its settings and requests.
	Approvals ApprovalService
	// Billing serves the bills pages.
	Billing BillingService
	// Vouchers, BillFiles and Commission serve the vouchers, bill files
	// and commission pages.
	Vouchers   VoucherService
	BillFiles  BillFileService
	Commission CommissionService
	// EndCustomer serves a customer's own view, read with its own key.
	EndCustomer EndCustomerService
}

// Handlers serves the portal.
type Handlers struct {
	users       UserService
	keys        KeyService
	audit       AuditLog
	figures     Figures
	jobs        JobService
	customers   CustomerService
	credit      CreditService
	allocations AllocationService
	bulk        BulkService
	limiters    Limiters
	sessions    *session.Store
	catalog     *i18n.Catalog
	assets      *static.Assets
	metrics     MetricsHandler
	health      func(ctx context.Context) error
	logger      *slog.Logger
	now         func() time.Time
	proxies     []netip.Prefix
	token       string
	once        *oneTime

	applications ApplicationService
	resellers    ResellerService
	onboarding   OnboardingService
	watch        WatchService
	approvals    ApprovalService
	billing      BillingService
	vouchers     VoucherService
	billfiles    BillFileService
	commission   CommissionService
	endcustomer  EndCustomerService
}

// New checks the options and returns the handlers.
func New(o Options) (*Handlers, error) {
	if o.Users == nil || o.Keys == nil || o.Audit == nil || o.Dashboard == nil || o.Jobs == nil || o.Customers == nil || o.Credit == nil || o.Allocations == nil || o.Bulk == nil || o.Limiters == nil ||
		o.Sessions == nil || o.Catalog == nil || o.Assets == nil || o.Metrics == nil || o.Health == nil {
		return nil, errors.New("handlers: missing dependency")
	}
	if o.Applications == nil || o.Resellers == nil {
		return nil, errors.New("handlers: missing the applications or resellers service")
	}
	if o.Onboarding == nil {
		return nil, errors.New("handlers: missing the onboarding service")
	}
	if o.Watch == nil {
		return nil, errors.New("handlers: missing the low-credit watch service")
	}
	if o.Approvals == nil {
		return nil, errors.New("handlers: missing the approvals service")
	}
	if o.Billing == nil {
		return nil, errors.New("handlers: missing the billing service")
	}
	if o.Vouchers == nil || o.BillFiles == nil || o.Commission == nil || o.EndCustomer == nil {
		return nil, errors.New("handlers: missing the vouchers, bill files or commission service")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handlers{
		users: o.Users, keys: o.Keys, audit: o.Audit, figures: o.Dashboard, jobs: o.Jobs, customers: o.Customers, credit: o.Credit, allocations: o.Allocations, bulk: o.Bulk, limiters: o.Limiters,
		sessions: o.Sessions, catalog: o.Catalog, assets: o.Assets, metrics: o.Metrics, health: o.Health,
		logger: o.Logger, now: o.Now, proxies: o.TrustedProxies, token: o.MetricsToken, once: &oneTime{},
		applications: o.Applications, resellers: o.Resellers, onboarding: o.Onboarding, watch: o.Watch,
		approvals: o.Approvals,
		billing:   o.Billing,
		vouchers:  o.Vouchers, billfiles: o.BillFiles, commission: o.Commission, endcustomer: o.EndCustomer,
	}, nil
}
