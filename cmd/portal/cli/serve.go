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
	"net/netip"
	"strings"
	"sync"
	"time"

	"resellerportal/cmd/portal/app"
	"resellerportal/keyring"
)

// serveFlags are the settings of `portal serve`.
type serveFlags struct {
	addr, data             string
	tlsCert, tlsKey        string
	behindTLSProxy         bool
	trustProxy             bool
	trustedProxies         string
	forceSandbox           bool
	sandboxSeed            int64
	sandboxCustomers       int
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
	fs.BoolVar(&f.trustProxy, "trust-proxy", envBool(getenv, "PORTAL_TRUST_PROXY"), "take client addresses from X-Forwarded-For as added by the trusted proxies [PORTAL_TRUST_PROXY]")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", envOr(getenv, "PORTAL_TRUSTED_PROXIES", "127.0.0.1/32,::1/128"),
		"with --trust-proxy: the proxies' addresses, comma-separated CIDRs [PORTAL_TRUSTED_PROXIES]")
	fs.BoolVar(&f.forceSandbox, "sandbox", envBool(getenv, "PORTAL_SANDBOX"), "use the built-in sandbox whatever the settings say [PORTAL_SANDBOX]")
	fs.Int64Var(&f.sandboxSeed, "sandbox-seed", app.DefaultSandboxSeed, "seed of the built-in sandbox's world")
	fs.IntVar(&f.sandboxCustomers, "sandbox-customers", app.DefaultSandboxCustomers, "direct customers in the built-in sandbox's world (1 to 50000)")
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
	switch {
	case (f.tlsCert == "") != (f.tlsKey == ""):
		return errors.New("serve: --tls-cert and --tls-key go together")
	case f.rateScale <= 0:
		return errors.New("serve: --sandbox-rate-scale must be positive")
	case f.sandboxCustomers < 1 || f.sandboxCustomers > 50000:
		return fmt.Errorf("serve: --sandbox-customers must be between 1 and 50000, not %d", f.sandboxCustomers)
	}
	var proxies []netip.Prefix
	if f.trustProxy {
		if proxies, err = parsePrefixes(f.trustedProxies); err != nil {
			return fmt.Errorf("serve: --trusted-proxies: %w", err)
		}
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	a, err := app.Open(ctx, app.Config{
		DataDir: f.data, Getenv: getenv, Logger: logger,
		ForceSandbox: f.forceSandbox, SandboxSeed: f.sandboxSeed, SandboxCustomers: f.sandboxCustomers, RateScale: f.rateScale,
		TrustedProxies: proxies, MetricsToken: getenv("PORTAL_METRICS_TOKEN"),
		SecureCookies: f.tlsCert != "" || f.behindTLSProxy, IdleTimeout: f.idleTimeout, MaxSession: f.maxLength,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	return serve(ctx, a, f, getenv, stdout, logger)
}

// parsePrefixes reads comma-separated CIDRs or single addresses.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			addr, err := netip.ParseAddr(part)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, errors.New("no proxy address given")
	}
	return out, nil
}

// serve creates the first admin if there is none, listens, and runs the
// portal and its background work until ctx ends or serving fails; either
// way it stops everything it started before returning.
func serve(ctx context.Context, a *app.App, f serveFlags, getenv func(string) string, stdout io.Writer, logger *slog.Logger) error {
	created, password, err := a.Users.EnsureFirstAdmin(ctx, getenv("PORTAL_ADMIN_PASSWORD"))
	if err != nil {
		return err
	}
	switch {
	case created && password != "":
		fmt.Fprintf(stdout, "Created the first administrator.\n  user name: admin\n  password:  %s\nThis password is shown only once; change it after signing in.\n", password)
	case created:
		fmt.Fprintln(stdout, "Created the first administrator (user name admin) with the password from PORTAL_ADMIN_PASSWORD.")
	}

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	mode := "Tencent Cloud partner API at " + a.Keys.Host()
	if a.Keys.Target() == keyring.Sandbox {
		mode = "the built-in partner API sandbox (nothing here reaches Tencent Cloud)"
	}
	fmt.Fprintf(stdout, "Portal listening on %s://%s\nPartner API: %s\n", scheme, ln.Addr(), mode)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = a.Run(runCtx) })
	errc := make(chan error, 1)
	go func() {
		if f.tlsCert != "" {
			errc <- srv.ServeTLS(ln, f.tlsCert, f.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		logger.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := srv.Shutdown(shutdownCtx); err != nil {
			serveErr = fmt.Errorf("shut down: %w", err)
		}
		cancel()
	}
	// Whatever ended serving ends the background work too, and we wait for it.
	stop()
	wg.Wait()
	return errors.Join(serveErr, runErr)
}
