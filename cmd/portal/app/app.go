// Package app builds the whole portal from its configuration: the store,
// the keys, the services, the partner API (the built-in sandbox or Tencent
// Cloud) and the web handlers. `portal serve`, the command line's other
// commands, the handler tests and the end-to-end tests all build it here,
// so none of them wires the packages differently.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"sync"
	"time"

	"resellerportal/apicache"
	"resellerportal/applications"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/billfiles"
	"resellerportal/billing"
	"resellerportal/commission"
	"resellerportal/credit"
	"resellerportal/customers"
	"resellerportal/dashboard"
	"resellerportal/endcustomer"
	"resellerportal/foureyes"
	"resellerportal/jobs"
	"resellerportal/keyring"
	"resellerportal/metrics"
	"resellerportal/onboarding"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/resellers"
	"resellerportal/store"
	"resellerportal/users"
	"resellerportal/vouchers"
	"resellerportal/watch"
	"resellerportal/web/handlers"
	"resellerportal/web/i18n"
	"resellerportal/web/session"
	"resellerportal/web/static"
)

// Config is everything the portal is configured with.
type Config struct {
	DataDir string
	// Getenv reads TENCENTCLOUD_* credentials and the PORTAL_SECRET_KEY and
	// PORTAL_SESSION_KEYS overrides.
	Getenv func(string) string
	Logger *slog.Logger

	// ForceSandbox uses the built-in sandbox whatever the settings say.
	ForceSandbox     bool
	SandboxSeed      int64
	SandboxCustomers int     // 200 when zero
	RateScale        float64 // the sandbox's and the client's limits ×; 1 when zero
	// SandboxAsServed takes the sandbox's seed, size and scale from the
	// last `portal serve` on this data directory instead of the fields
	// above, so that the command line sees the world the portal shows.
	SandboxAsServed bool

	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MetricsToken lets a scraper read /metrics with a bearer token.
	MetricsToken string
	// SecureCookies marks the session cookie Secure (__Host- prefix).
	SecureCookies bool
	// IdleTimeout and MaxSession end sessions; 30 min and 12 h when zero.
	IdleTimeout, MaxSession time.Duration
	// HashCost is the password hashing cost; auth.ProductionCost when zero.
	HashCost auth.Cost
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// App is a built portal.
type App struct {
	DB        *store.DB
	Keys      *keyring.Keyring
	Users     *users.Service
	Jobs      *jobs.Service
	Engine    *jobs.Engine
	Secrets   *jobs.Secrets // new accounts' passwords, in memory until sent
	Customers *customers.Service
	// Approvals is four-eyes approval, the gate in front of every writes job.
	Approvals *foureyes.Service
	Billing   *billing.Service
	Audit     *audit.Log
	Cache     *apicache.Cache
	Handlers  *handlers.Handlers
	Metrics   *metrics.Metrics

	logger   *slog.Logger
	cfg      Config
	sessions *session.Store

	sandboxOnce sync.Once
	sandbox     *sandbox.Server
	sandboxEp   keyring.Endpoint
	sandboxErr  error
	sandboxHTTP *http.Server
}

// Open builds the portal on its data directory, creating what is missing.
// Nothing listens and no sandbox starts until it is needed.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dataDir, err := prepareDataDir(cfg.DataDir, cfg.Logger)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, databasePath(dataDir), store.Options{Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	if err := sandboxWorld(ctx, db, &cfg); err != nil {
		db.Close()
		return nil, err
	}
	a := &App{cfg: cfg, logger: cfg.Logger, DB: db}
	if err := a.build(ctx, dataDir); err != nil {
		a.DB.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context, dataDir string) error {
	cfg := a.cfg
	sealKey, err := keyring.LoadKey(cfg.Getenv("PORTAL_SECRET_KEY"), filepath.Join(dataDir, "secret.key"))
	if err != nil {
		return err
	}
	sealer, err := keyring.NewSealer(sealKey)
	if err != nil {
		return err
	}
	cookieKeys, err := sessionKeys(cfg.Getenv("PORTAL_SESSION_KEYS"), filepath.Join(dataDir, "session.keys"))
	if err != nil {
		return err
	}
	a.Metrics = metrics.New()
	envCred, _ := partnerapi.CredentialFromEnv(cfg.Getenv)
	// The sandbox's rate scale speeds the client up only when the portal
	// starts on the sandbox: never against Tencent Cloud's real limits.
	scale := 1.0
	saved, _ := a.DB.Setting(ctx, keyring.TargetSetting)
	if cfg.ForceSandbox || (saved != string(keyring.TencentCloud) && (saved == string(keyring.Sandbox) || envCred.SecretId == "")) {
		scale = cfg.RateScale
	}
	var forced keyring.Target
	if cfg.ForceSandbox {
		forced = keyring.Sandbox
	}
	host := cfg.Getenv("TENCENTCLOUD_ENDPOINT")
	if host == "" {
		host = partnerapi.DefaultEndpoint
	}
	a.Keys, err = keyring.New(ctx, keyring.Options{
		DB: a.DB, Sealer: sealer,
		Client:       partnerapi.Config{Limiters: partnerapi.NewLimiters(scale), Observe: a.Metrics.ObserveAPI},
		TencentCloud: keyring.Endpoint{Host: host, Scheme: "https", Fallback: envCred},
		Sandbox:      a.startSandbox,
		Forced:       forced,
	})
	if err != nil {
		return err
	}
	a.Cache = apicache.New(apicache.Options{Now: cfg.Now})
	a.Users = users.New(users.Options{
		DB: a.DB, Hasher: auth.NewHasher(auth.HasherOptions{Cost: cfg.HashCost}), Throttle: auth.NewThrottle(cfg.Now),
		Resellers: users.PartnerResellers{Clients: a.Keys}, Now: cfg.Now,
	})
	a.Audit = audit.NewLog(a.DB)
	a.Secrets = jobs.NewSecrets(cfg.Now)
	a.Engine = jobs.New(a.DB, a.Keys, cfg.Logger.With("component", "jobs"),
		jobs.DirectoryRefresh{}, jobs.BillsRefresh{DB: a.DB, Clients: a.Keys}, jobs.ApplyWrites{DB: a.DB, Secrets: a.Secrets, Now: cfg.Now})
	a.Jobs = jobs.NewService(a.DB, a.Engine, cfg.Now)
	a.Approvals = foureyes.New(foureyes.Options{DB: a.DB, Clients: a.Keys, Now: cfg.Now, Logger: cfg.Logger.With("component", "foureyes")})
	a.Jobs.UseGate(a.Approvals)
	a.Approvals.UseWrites(a.Jobs)
	a.Customers = customers.New(customers.Options{DB: a.DB, Clients: a.Keys, Cache: a.Cache, Writes: a.Jobs, Now: cfg.Now})
	a.Billing = billing.New(billing.Options{DB: a.DB, Clients: a.Keys, Cache: a.Cache, Jobs: a.Jobs, Customers: a.Customers, Now: cfg.Now})
	if a.sessions, err = session.New(a.DB, session.Options{
		Keys: cookieKeys, Secure: cfg.SecureCookies, IdleTimeout: cfg.IdleTimeout, AbsoluteTimeout: cfg.MaxSession, Now: cfg.Now,
	}); err != nil {
		return err
	}
	catalog, err := i18n.New()
	if err != nil {
		return err
	}
	assets, err := static.New()
	if err != nil {
		return err
	}
	apps, err := applications.New(applications.Options{Clients: a.Keys, Writes: a.Jobs, Cache: a.Cache, DB: a.DB,
		Logger: cfg.Logger.With("component", "applications")})
	if err != nil {
		return err
	}
	onboard, err := onboarding.New(onboarding.Options{DB: a.DB, Clients: a.Keys, Writes: a.Jobs, Secrets: a.Secrets, Cache: a.Cache,
		Sandbox: sandboxOutbox{a}, OnSandbox: func() bool { return a.Keys.Target() == keyring.Sandbox }, Now: cfg.Now,
		Logger: cfg.Logger.With("component", "onboarding")})
	if err != nil {
		return err
	}
	figures := dashboard.New(a.Keys, a.Cache)
	rs := resellers.New(a.Keys, a.Cache)
	watches := watch.NewService(a.DB)
	creditService := credit.New(credit.Options{Figures: figures, Customers: a.Customers, Pools: rs, Writes: a.Jobs, Ledger: a.DB, Batches: a.DB, Thresholds: watches, Approvals: a.Approvals})
	a.Handlers, err = handlers.New(handlers.Options{
		Users: a.Users, Keys: a.Keys, Audit: a.Audit, Dashboard: figures, Jobs: a.Jobs, Watch: watches,
		Customers: a.Customers, Credit: creditService, Allocations: creditService, Bulk: creditService, Applications: apps, Resellers: rs, Onboarding: onboard,
		Billing:     a.Billing,
		Vouchers:    vouchers.New(vouchers.Options{DB: a.DB, Clients: a.Keys, Customers: a.Customers, Cache: a.Cache, Now: cfg.Now}),
		BillFiles:   billfiles.New(billfiles.Options{DB: a.DB, Clients: a.Keys, Customers: a.Customers, Own: a.Keys, Now: cfg.Now}),
		Commission:  commission.New(a.DB, a.Keys, a.Cache, cfg.Now),
		EndCustomer: endcustomer.New(a.Keys, a.Customers, a.Cache, cfg.Now),
		Limiters:    a.Keys.Limiters(), Sessions: a.sessions, Catalog: catalog, Assets: assets, Metrics: a.Metrics,
		Health: a.health, Logger: cfg.Logger, Now: cfg.Now, TrustedProxies: cfg.TrustedProxies, MetricsToken: cfg.MetricsToken,
		Approvals: a.Approvals,
	})
	return err
}

// sandboxWorldSetting records the sandbox world `portal serve` last used.
const sandboxWorldSetting = "sandbox.world"

// sandboxWorld settles the sandbox's seed, size and scale: as given (and
// recorded for the command line), or as the last serve recorded them.
func sandboxWorld(ctx context.Context, db *store.DB, cfg *Config) error {
	type world struct {
		Seed      int64
		Customers int
		RateScale float64
	}
	if cfg.SandboxAsServed {
		var w world
		saved, err := db.Setting(ctx, sandboxWorldSetting)
		switch {
		case err == nil:
			if err := json.Unmarshal([]byte(saved), &w); err != nil {
				return fmt.Errorf("read the sandbox's settings: %w", err)
			}
			cfg.SandboxSeed, cfg.SandboxCustomers, cfg.RateScale = w.Seed, w.Customers, w.RateScale
		case !errors.Is(err, store.ErrNotFound):
			return err
		default:
			cfg.SandboxSeed = DefaultSandboxSeed
		}
	}
	if cfg.RateScale <= 0 {
		cfg.RateScale = 1
	}
	if cfg.SandboxCustomers <= 0 {
		cfg.SandboxCustomers = DefaultSandboxCustomers
	}
	if cfg.SandboxAsServed {
		return nil
	}
	b, err := json.Marshal(world{cfg.SandboxSeed, cfg.SandboxCustomers, cfg.RateScale})
	if err != nil {
		return err
	}
	return db.Write(ctx, func(tx *store.Tx) error { return tx.SetSetting(ctx, sandboxWorldSetting, string(b)) })
}

// The sandbox world `portal serve` starts by default.
const (
	DefaultSandboxSeed      = 1
	DefaultSandboxCustomers = 200
)

// health answers nil while the database answers.
func (a *App) health(ctx context.Context) error {
	_, err := a.DB.CountUsers(ctx)
	return err
}

// Handler is the portal's HTTP handler.
func (a *App) Handler() http.Handler { return a.Handlers.Routes() }

// startSandbox starts the built-in sandbox once, on a loopback port, so
// calls to it travel exactly as they would to Tencent Cloud.
func (a *App) startSandbox() (keyring.Endpoint, error) {
	a.sandboxOnce.Do(func() {
		sb, err := sandbox.New(sandbox.Options{Seed: a.cfg.SandboxSeed, Customers: a.cfg.SandboxCustomers, RateScale: a.cfg.RateScale,
			Logger: a.logger.With("component", "sandbox")})
		if err != nil {
			a.sandboxErr = fmt.Errorf("start the sandbox: %w", err)
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			a.sandboxErr = fmt.Errorf("start the sandbox: %w", err)
			return
		}
		a.sandbox = sb
		a.sandboxHTTP = &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
		go a.sandboxHTTP.Serve(ln) //nolint:errcheck // ends with Close
		a.sandboxEp = keyring.Endpoint{Host: ln.Addr().String(), Scheme: "http", Fallback: sb.DemoDistributor().Credential}
	})
	return a.sandboxEp, a.sandboxErr
}

// Sandbox returns the built-in sandbox, starting it if needed: tests use it
// to switch its allowlist, inject faults and read its outbox.
func (a *App) Sandbox() (*sandbox.Server, error) {
	if _, err := a.startSandbox(); err != nil {
		return nil, err
	}
	return a.sandbox, nil
}

// refusalsEvery is how often refused sign-in bursts are written to the log.
const refusalsEvery = time.Minute

// Run runs the portal's background work — the job engine, the expired
// session sweeper, the writing of refused sign-in bursts — until ctx ends,
// and returns once all of it has stopped.
func (a *App) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	var engineErr error
	wg.Go(func() { engineErr = a.Engine.Run(ctx) })
	wg.Go(func() { a.every(ctx, 10*time.Minute, a.sweepSessions) })
	// Four-eyes: requests expire, and approved writes' outcomes are audited,
	// even while nobody opens Approvals.
	wg.Go(func() { a.every(ctx, time.Minute, a.Approvals.Sweep) })
	wg.Go(func() {
		a.every(ctx, refusalsEvery, func(ctx context.Context) {
			if err := a.Users.RecordRefusals(ctx, false); err != nil && ctx.Err() == nil {
				a.logger.Error("record refused sign-ins", "err", err)
			}
		})
	})
	wg.Wait()
	// Bursts still open are written at shutdown, whatever ctx says.
	if err := a.Users.RecordRefusals(context.WithoutCancel(ctx), true); err != nil {
		a.logger.Error("record refused sign-ins", "err", err)
	}
	return engineErr
}

func (a *App) every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

func (a *App) sweepSessions(ctx context.Context) {
	if _, err := a.DB.DeleteExpiredSessions(ctx, a.cfg.Now()); err != nil && ctx.Err() == nil {
		a.logger.Error("delete expired sessions", "err", err)
	}
}

// Close stops the sandbox and closes the database.
func (a *App) Close() error {
	var errs []error
	if a.sandboxHTTP != nil {
		errs = append(errs, a.sandboxHTTP.Close())
	}
	errs = append(errs, a.DB.Close())
	return errors.Join(errs...)
}

// sandboxOutbox is the built-in sandbox as the onboarding pages see it:
// its outbox and its invited party, the sandbox started only when asked.
type sandboxOutbox struct{ app *App }

func (o sandboxOutbox) Outbox() ([]onboarding.Message, error) {
	sb, err := o.app.Sandbox()
	if err != nil {
		return nil, err
	}
	var out []onboarding.Message
	for _, m := range sb.Outbox() {
		at, _ := time.Parse(time.RFC3339, m.Time)
		out = append(out, onboarding.Message{Kind: m.Kind, To: m.To, Time: at, Code: m.Code, Link: m.Link, Token: m.Token})
	}
	return out, nil
}

func (o sandboxOutbox) Accept(token string) (uint64, error) {
	sb, err := o.app.Sandbox()
	if err != nil {
		return 0, err
	}
	uin, err := sb.AcceptInvitation(token, "")
	for _, e := range []struct{ sandbox, onboarding error }{
		{sandbox.ErrInvitationNotFound, onboarding.ErrInvitationNotFound},
		{sandbox.ErrInvitationUsed, onboarding.ErrInvitationUsed},
		{sandbox.ErrInvitationExpired, onboarding.ErrInvitationExpired},
	} {
		if errors.Is(err, e.sandbox) {
			return 0, fmt.Errorf("%w: %w", e.onboarding, err)
		}
	}
	return uin, err
}
