package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"resellerportal/audit"
	"resellerportal/cmd/portal/app"
)

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export") {
		fmt.Fprintln(stderr, "Usage: portal audit verify | portal audit export --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE]")
		return fmt.Errorf("audit: verify or export: %w", errUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("audit "+sub, stderr)
	data := dataFlag(fs, getenv)
	var from, to, out string
	if sub == "export" {
		fs.StringVar(&from, "from", "", "first day, YYYY-MM-DD (UTC); empty for the beginning")
		fs.StringVar(&to, "to", "", "last day, YYYY-MM-DD (UTC); empty for today")
		fs.StringVar(&out, "out", "", "file to write; standard output when empty")
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	a, err := openApp(ctx, *data, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "verify" {
		return verifyAudit(ctx, a, stdout)
	}
	return exportAudit(ctx, a, audit.Filter{From: from, To: to}, out, stdout)
}

func verifyAudit(ctx context.Context, a *app.App, stdout io.Writer) error {
	rep, err := a.DB.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if rep.BrokenID != 0 {
		fmt.Fprintf(stdout, "BROKEN: audit row %d: %s (%d rows before it are intact)\n", rep.BrokenID, rep.Problem, rep.Rows)
		return fmt.Errorf("audit log chain broken at row %d", rep.BrokenID)
	}
	fmt.Fprintf(stdout, "OK: %d audit rows, hash chain intact\n", rep.Rows)
	return nil
}

// exportAudit writes the audit log between two days (UTC) as CSV; the
// export is itself audited, as from the web.
func exportAudit(ctx context.Context, a *app.App, in audit.Filter, out string, stdout io.Writer) error {
	filter, err := in.Parse()
	if err != nil {
		return fmt.Errorf("audit export: --from and --to must be YYYY-MM-DD: %w", err)
	}
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		defer f.Close()
		w = f
	}
	n, err := a.Audit.Export(ctx, audit.CommandLine(), filter, w)
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	if out != "" {
		fmt.Fprintf(stdout, "Wrote %d audit rows to %s\n", n, out)
	}
	return nil
}
