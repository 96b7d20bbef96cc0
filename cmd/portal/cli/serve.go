package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/keyring"
	"resellerportal/metrics"
	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
	"resellerportal/store"
	"resellerportal/web/handlers"
	"resellerportal/web/i18n"
	"resellerportal/web/session"
	"resellerportal/web/static"
)

// serveFlags are the settings of `portal serve`.
type serveFlags struct {
	addr, data             string
	tlsCert, tlsKey        string
	behindTLSProxy         bool
	trustProxy             bool
	forceSandbox           bool
	sandboxSeed            int64
	rateScale              float64
	idleTimeout, maxLength time.Duration
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var f serveFlags
	fs.StringVar(&f.addr, "addr", envOr(getenv, "PORTAL_ADDR", "127.0.0.1:8080"), "address to listen on [PORTAL_ADDR]")
	data := dataFlag(fs, getenv)
	fs.StringVar(&f.tlsCert, "tls-cert", getenv("PORTAL_TLS_CERT"), "TLS certificate file; serve HTTPS when set with --tls-key [PORTAL_TLS_CERT]")
	fs.StringVar(&f.tlsKey, "tls-key", getenv("PORTAL_TLS_KEY"), "TLS private key file [PORTAL_TLS_KEY]")
	fs.BoolVar(&f.behindTLSProxy, "behind-tls-proxy", envBool(getenv, "PORTAL_BEHIND_TLS_PROXY"), "a proxy in front serves HTTPS: mark cookies Secure [PORTAL_BEHIND_TLS_PROXY]")
	fs.BoolVar(&f.trustProxy, "trust-proxy", envBool(getenv, "PORTAL_TRUST_PROXY"), "take client addresses from X-Forwarded-For [PORTAL_TRUST_PROXY]")
	fs.BoolVar(&f.forceSandbox, "sandbox", envBool(getenv, "PORTAL_SANDBOX"), "use the built-in sandbox even when credentials are configured [PORTAL_SANDBOX]")
	fs.Int64Var(&f.sandboxSeed, "sandbox-seed", 1, "seed of the built-in sandbox's world")
	fs.Float64Var(&f.rateScale, "sandbox-rate-scale", 1, "speed up the built-in sandbox's rate limits (and the client's) by this factor")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	f.data = *data
	var err error
	if f.idleTimeout, err = envDuration(getenv, "PORTAL_SESSION_IDLE", 30*time.Minute); err != nil {
		return err
	}
	if f.maxLength, err = envDuration(getenv, "PORTAL_SESSION_MAX", 12*time.Hour); err != nil {
		return err
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return errors.New("serve: --tls-cert and --tls-key go together")
	}
	if f.rateScale <= 0 {
		return errors.New("serve: --sandbox-rate-scale must be positive")
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	return serve(ctx, f, getenv, stdout, logger)
}

func serve(ctx context.Context, f serveFlags, getenv func(string) string, stdout io.Writer, logger *slog.Logger) error {
	db, dataDir, err := openStore(ctx, f.data)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureFirstAdmin(ctx, db, getenv("PORTAL_ADMIN_PASSWORD"), stdout); err != nil {
		return err
	}
	sealKey, err := keyring.LoadKey(getenv("PORTAL_SECRET_KEY"), filepath.Join(dataDir, "secret.key"))
	if err != nil {
		return err
	}
	sealer, err := keyring.NewSealer(sealKey)
	if err != nil {
		return err
	}
	keys, err := sessionKeys(getenv("PORTAL_SESSION_KEYS"), filepath.Join(dataDir, "session.keys"))
	if err != nil {
		return err
	}

	m := metrics.New()
	api, err := partnerAPI(ctx, db, f, getenv, logger)
	if err != nil {
		return err
	}
	defer api.close()
	base := partnerapi.Config{Endpoint: api.endpoint, Scheme: api.scheme, Limiters: partnerapi.NewLimiters(api.scale), Observe: m.ObserveAPI}
	ring := keyring.New(db, sealer, base, api.fallback)
	engine := jobs.New(db, ring, logger.With("component", "jobs"),
		jobs.DirectoryRefresh{DB: db}, jobs.BillsRefresh{DB: db}, jobs.ApplyWrites{DB: db})

	sessions, err := session.New(db, session.Options{
		Keys: keys, Secure: f.tlsCert != "" || f.behindTLSProxy, IdleTimeout: f.idleTimeout, AbsoluteTimeout: f.maxLength,
	})
	if err != nil {
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
	h, err := handlers.New(handlers.Config{
		DB: db, Sessions: sessions, Catalog: catalog, Assets: assets, Throttle: auth.NewThrottle(nil),
		Partner: ring, Metrics: m, Jobs: engine, Limiters: base.Limiters, Logger: logger, Sandbox: api.sandbox, Endpoint: api.endpoint,
		FallbackSecretID: api.fallback.SecretId, TrustProxy: f.trustProxy,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h.Routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	mode := "Tencent Cloud partner API at " + api.endpoint
	if api.sandbox {
		mode = "the built-in partner API sandbox (nothing here reaches Tencent Cloud)"
	}
	fmt.Fprintf(stdout, "Portal listening on %s://%s\nPartner API: %s\n", scheme, ln.Addr(), mode)

	go sweepSessions(ctx, db, logger)
	engineDone := make(chan error, 1)
	go func() { engineDone <- engine.Run(ctx) }()
	defer func() { <-engineDone }()
	errc := make(chan error, 1)
	go func() {
		if f.tlsCert != "" {
			errc <- srv.ServeTLS(ln, f.tlsCert, f.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// sweepSessions deletes expired sessions every ten minutes.
func sweepSessions(ctx context.Context, db *store.DB, logger *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := db.DeleteExpiredSessions(ctx, now); err != nil && ctx.Err() == nil {
				logger.Error("sweep sessions", "err", err)
			}
		}
	}
}

// apiTarget is where the portal's partner API calls go.
type apiTarget struct {
	endpoint, scheme string
	scale            float64
	sandbox          bool
	fallback         partnerapi.Credential
	close            func()
}

// partnerAPI picks the partner API: Tencent Cloud when credentials are in
// the environment or stored in the portal, else the built-in sandbox,
// served on a loopback port so calls travel exactly as they would to
// Tencent Cloud.
func partnerAPI(ctx context.Context, db *store.DB, f serveFlags, getenv func(string) string, logger *slog.Logger) (apiTarget, error) {
	envCred, fromEnv := partnerapi.CredentialFromEnv(getenv)
	_, storedErr := db.CredentialFor(ctx, store.CredentialDistributor, 0)
	stored := storedErr == nil
	if storedErr != nil && !errors.Is(storedErr, store.ErrNotFound) {
		return apiTarget{}, storedErr
	}
	if !f.forceSandbox && (fromEnv || stored) {
		endpoint := envOr(getenv, "TENCENTCLOUD_ENDPOINT", partnerapi.DefaultEndpoint)
		t := apiTarget{endpoint: endpoint, scheme: "https", scale: 1, close: func() {}}
		if fromEnv {
			t.fallback = envCred
		}
		return t, nil
	}

	sb, err := sandbox.New(sandbox.Options{Seed: f.sandboxSeed, RateScale: f.rateScale, Logger: logger.With("component", "sandbox")})
	if err != nil {
		return apiTarget{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return apiTarget{}, fmt.Errorf("start sandbox: %w", err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t := apiTarget{endpoint: ln.Addr().String(), scheme: "http", scale: f.rateScale, sandbox: true, close: func() { srv.Close() }}
	for _, c := range sb.Credentials() {
		if c.Role == "distributor" {
			t.fallback = partnerapi.Credential{SecretId: c.SecretId, SecretKey: c.SecretKey}
		}
	}
	return t, nil
}

// ensureFirstAdmin creates the user admin when the portal has no
// administrator, with the password from PORTAL_ADMIN_PASSWORD or a random
// one printed once.
func ensureFirstAdmin(ctx context.Context, db *store.DB, password string, stdout io.Writer) error {
	// Users added with `portal user add` before the first start do not
	// count: the portal needs an administrator.
	users, err := db.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Role == string(auth.RoleAdmin) {
			return nil
		}
	}
	printed := password == ""
	if printed {
		if password, err = auth.RandomPassword(20); err != nil {
			return err
		}
	} else if err := auth.ValidatePassword("admin", password); err != nil {
		return fmt.Errorf("PORTAL_ADMIN_PASSWORD: %w", err)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		u, err := tx.CreateUser(ctx, store.User{Username: "admin", DisplayName: "Administrator", Role: string(auth.RoleAdmin), PasswordHash: hash})
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, store.AuditEntry{Actor: "system", ActorRole: "system", Action: "user.create",
			Params: map[string]string{"user": u.Username, "role": u.Role, "reason": "first run"}, Outcome: "ok"})
		return err
	})
	if err != nil {
		return fmt.Errorf("create first admin: %w", err)
	}
	if printed {
		fmt.Fprintf(stdout, "Created the first administrator.\n  user name: admin\n  password:  %s\nThis password is shown only once; change it after signing in.\n", password)
	} else {
		fmt.Fprintln(stdout, "Created the first administrator (user name admin) with the password from PORTAL_ADMIN_PASSWORD.")
	}
	return nil
}
