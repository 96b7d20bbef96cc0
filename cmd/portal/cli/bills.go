package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"resellerportal/audit"
	"resellerportal/billing"
)

const billsUsage = `Usage:
  portal bills month YYYY-MM [--sort uin|name|total|previous|change] [--desc] [--page N]
  portal bills month YYYY-MM --csv|--xlsx [--out FILE]`

func runBills(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "month" {
		fmt.Fprintln(stderr, billsUsage)
		return fmt.Errorf("bills: month: %w", errUsage)
	}
	fs := newFlagSet("bills month", stderr)
	data := dataFlag(fs, getenv)
	var q billing.Query
	var desc, asCSV, asXLSX bool
	var out string
	fs.StringVar(&q.Sort, "sort", "", "column to sort by: uin, name, total, previous, change; the biggest total first when empty")
	fs.BoolVar(&desc, "desc", false, "sort descending")
	fs.StringVar(&q.Page, "page", "", "page of 50, from 1")
	fs.BoolVar(&asCSV, "csv", false, "write every customer's total as CSV (UTF-8 with a byte order mark), audited")
	fs.BoolVar(&asXLSX, "xlsx", false, "write the customers' totals and the twelve months as XLSX, audited")
	fs.StringVar(&out, "out", "", "file to write the export to; standard output when empty")
	// The month may come before or after the flags.
	if help, err := parseFlagsAround(fs, args[1:]); help || err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, billsUsage)
		return fmt.Errorf("bills month: one month, YYYY-MM: %w", errUsage)
	}
	if asCSV && asXLSX {
		return fmt.Errorf("bills month: --csv or --xlsx, not both: %w", errUsage)
	}
	q.Month = fs.Arg(0)
	if desc {
		q.Desc = "1"
	}
	a, err := openApp(ctx, *data, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	svc, who := a.Billing, audit.CommandLine()
	f, err := svc.ParseQuery(who, q)
	if err != nil {
		return explain("bills month", err)
	}
	if asCSV || asXLSX {
		format := billing.CSV
		if asXLSX {
			format = billing.XLSX
		}
		w := stdout
		if out != "" {
			file, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return fmt.Errorf("bills month: %w", err)
			}
			defer file.Close()
			w = file
		}
		if err := svc.ExportOverview(ctx, who, f, format, "", w); err != nil {
			return explain("bills month", err)
		}
		if out != "" {
			fmt.Fprintf(stdout, "Wrote the bills of %s to %s\n", f.Month, out)
		}
		return nil
	}
	o, err := svc.Overview(ctx, who, f)
	if err != nil {
		return explain("bills month", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "UIN\tNAME\tTOTAL\tMONTH BEFORE\tCHANGE\t")
	for _, r := range o.Rows {
		prev, change := "-", "-"
		if r.HasPrevious {
			prev, change = r.PrevAmount.StringFixed(2), r.Change.StringFixed(2)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t\n", r.Uin, r.Name, r.Amount.StringFixed(2), prev, change)
	}
	tw.Flush()
	asOf := "never"
	if !o.AsOf.IsZero() {
		asOf = o.AsOf.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(stdout, "%s: USD %s over %d customers (the month before: USD %s); page %d of %d; as of %s\n",
		f.Month, o.Total.StringFixed(2), o.Customers, o.Previous.StringFixed(2), f.PageNumber(), o.Pages, asOf)
	return nil
}
