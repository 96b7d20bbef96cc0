package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/partnerapi/sandbox"
)

// sandboxFlags are the settings of `portal sandbox`.
type sandboxFlags struct {
	addr           string
	seed           int64
	customers      int
	rateScale      float64
	notAllowlisted []string
}

func runSandbox(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sandbox", stderr)
	var f sandboxFlags
	fs.StringVar(&f.addr, "addr", "127.0.0.1:9100", "address to listen on")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the generated world; the same seed gives the same world")
	fs.IntVar(&f.customers, "customers", 200, "direct customers of the distributor (1 to 50000)")
	fs.Float64Var(&f.rateScale, "rate-scale", 1, "multiply every documented rate limit by this factor (give the client the same factor)")
	var notAllowlisted string
	fs.StringVar(&notAllowlisted, "not-allowlisted", "", "comma-separated actions no partner is allowlisted for at first, answered UnauthorizedOperation (any of "+
		strings.Join(partnerapi.AllowlistedActions(), ", ")+"); switch them later at /sandbox/allowlist")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	actions, err := parseNotAllowlisted(notAllowlisted)
	if err != nil {
		return fmt.Errorf("sandbox: --not-allowlisted: %w", err)
	}
	f.notAllowlisted = actions
	if f.customers < 1 || f.customers > 50000 {
		return fmt.Errorf("sandbox: --customers must be between 1 and 50000, not %d", f.customers)
	}
	if f.rateScale <= 0 {
		return fmt.Errorf("sandbox: --rate-scale must be positive, not %v", f.rateScale)
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	srv, err := sandbox.New(sandbox.Options{
		Seed: f.seed, Customers: f.customers, RateScale: f.rateScale, Logger: logger,
		NotAllowlisted: f.notAllowlisted,
	})
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	printSandbox(stdout, "http://"+ln.Addr().String(), srv.Credentials(), f)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox: shut down: %w", err)
	}
	return nil
}

func printSandbox(w io.Writer, base string, creds []sandbox.Credential, f sandboxFlags) {
	fmt.Fprintf(w, "Partner API sandbox (intlpartnersmgt 2022-09-28) listening on %s\n", base)
	fmt.Fprintf(w, "endpoint: %s\n", base)
	fmt.Fprintf(w, "seed %d, %d direct customers, rate scale %g\n\n", f.seed, f.customers, f.rateScale)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tUIN\tNAME\tSECRET ID\tSECRET KEY")
	for _, c := range creds {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", c.Role, c.Uin, c.Name, c.SecretId, c.SecretKey)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nThe same list as JSON: %s/sandbox/credentials; mails and SMS codes: %s/sandbox/outbox\n", base, base)
	if len(f.notAllowlisted) > 0 {
		fmt.Fprintf(w, "No partner is allowlisted for %s; switch at %s/sandbox/allowlist\n", strings.Join(f.notAllowlisted, ", "), base)
	}
}

// parseNotAllowlisted reads the comma-separated --not-allowlisted list: each
// name must be an action that requires Tencent's allowlist. Blanks around
// names and repeated names are ignored.
func parseNotAllowlisted(list string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "" || slices.Contains(out, name):
			continue
		case !partnerapi.RequiresAllowlist(name):
			return nil, fmt.Errorf("%q is not an action that requires the allowlist; the actions that do are %s",
				name, strings.Join(partnerapi.AllowlistedActions(), ", "))
		}
		out = append(out, name)
	}
	return out, nil
}
