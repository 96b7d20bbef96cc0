package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/customers"
)

const customersUsage = `Usage:
  portal customers search [--q TEXT] [--verified yes|no] [--suspended yes|no] [--spend yes|no]
                          [--reseller direct|UIN] [--sort COLUMN] [--desc] [--page N]
  portal customers export [the same filters] [--out FILE]
  portal customers show UIN`

func runCustomers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "search" && args[0] != "export" && args[0] != "show") {
		fmt.Fprintln(stderr, customersUsage)
		return fmt.Errorf("customers: search, export or show: %w", errUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("customers "+sub, stderr)
	data := dataFlag(fs, getenv)
	var q customers.Query
	var desc bool
	var out string
	var uin uint64
	if sub == "show" {
		// The UIN may come before or after the flags.
		if help, err := parseFlagsAround(fs, args); help || err != nil {
			return err
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, customersUsage)
			return fmt.Errorf("customers show: one UIN: %w", errUsage)
		}
		var err error
		if uin, err = strconv.ParseUint(fs.Arg(0), 10, 64); err != nil || uin == 0 {
			return fmt.Errorf("customers show: %q is not a UIN: %w", fs.Arg(0), errUsage)
		}
		args = nil
	} else {
		fs.StringVar(&q.Text, "q", "", "a UIN or its first digits, or words of the name, email or remark")
		fs.StringVar(&q.Verified, "verified", "", "yes or no: identity verified")
		fs.StringVar(&q.Suspended, "suspended", "", "yes or no: services suspended")
		fs.StringVar(&q.Spend, "spend", "", "yes or no: has spend this month")
		fs.StringVar(&q.Reseller, "reseller", "", "direct, or a second-level reseller's UIN")
		fs.StringVar(&q.Sort, "sort", "", "column to sort by: uin, name, email, remark, credit, remaining_credit, spend, reseller_uin, bind_time, …")
		fs.BoolVar(&desc, "desc", false, "sort descending")
		if sub == "search" {
			fs.StringVar(&q.Page, "page", "", "page of 50, from 1")
		} else {
			fs.StringVar(&out, "out", "", "file to write; standard output when empty")
		}
	}
	if sub != "show" {
		if help, err := parseFlags(fs, args); help || err != nil {
			return err
		}
	}
	if desc {
		q.Desc = "1"
	}
	a, err := openApp(ctx, *data, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	svc, who := a.Customers, audit.CommandLine()
	if sub == "show" {
		return showCustomer(ctx, svc, who, uin, stdout)
	}
	f, err := svc.ParseQuery(who, q)
	if err != nil {
		return explain("customers "+sub, err)
	}
	if sub == "export" {
		return exportCustomers(ctx, svc, who, f, out, stdout)
	}
	list, err := svc.Search(ctx, who, f)
	if err != nil {
		return fmt.Errorf("customers search: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UIN\tNAME\tEMAIL\tREMARK\tCREDIT\tAVAILABLE\tRESELLER\tSUSPENDED")
	for _, c := range list.Customers {
		reseller := "direct"
		if c.ResellerUin != 0 {
			reseller = strconv.FormatUint(c.ResellerUin, 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%t\n", c.Uin, c.Name, c.Email, c.Remark, c.Credit, c.RemainingCredit, reseller, c.Suspended())
	}
	tw.Flush()
	asOf := "never"
	if !list.AsOf.IsZero() {
		asOf = list.AsOf.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(stdout, "%d customers match; page %d of %d; the list is as of %s\n", list.Total, f.PageNumber(), list.Pages, asOf)
	return nil
}

func exportCustomers(ctx context.Context, svc *customers.Service, who audit.Actor, f customers.Filters, out string, stdout io.Writer) error {
	w := stdout
	if out != "" {
		file, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("customers export: %w", err)
		}
		defer file.Close()
		w = file
	}
	n, err := svc.Export(ctx, who, f, w)
	if err != nil {
		return fmt.Errorf("customers export: %w", err)
	}
	if out != "" {
		fmt.Fprintf(stdout, "Wrote %d customers to %s\n", n, out)
	}
	return nil
}

func showCustomer(ctx context.Context, svc *customers.Service, who audit.Actor, uin uint64, stdout io.Writer) error {
	d, err := svc.Customer(ctx, who, uin, apicache.Fresh, 1)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.NotFound {
			return fmt.Errorf("customers show: %d is not a customer of the partner", uin)
		}
		return fmt.Errorf("customers show: %w", err)
	}
	c := d.Row
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	line("UIN", strconv.FormatUint(c.Uin, 10))
	line("Name", c.Name)
	line("Email", c.Email)
	line("Phone", c.Phone)
	line("Remark", c.Remark)
	if c.ResellerUin != 0 {
		line("Second-level reseller", strconv.FormatUint(c.ResellerUin, 10))
	}
	line("Suspended", strconv.FormatBool(c.Suspended()))
	if v := d.Credit.Value; v != nil {
		line("Credit", v.TotalCredit.String())
		line("Available credit", v.RemainingCredit.String())
	}
	if v := d.Verified.Value; v != nil {
		line("Identity verified", strconv.FormatBool(*v))
	}
	if v := d.VoucherQuota.Value; v != nil {
		line("Vouchers", v.TotalAmount.String()+" ("+v.RemainAmount.String()+" left)")
	}
	if c.SpendMonth != "" {
		line("Spend "+c.SpendMonth, c.Spend)
	}
	tw.Flush()
	var problems []error
	for _, e := range []error{d.Blocked, d.Info.Err, d.Credit.Err, d.Verified.Err, d.VoucherQuota.Err} {
		if e != nil {
			problems = append(problems, e)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("customers show: some details could not be read: %w", errors.Join(problems...))
	}
	return nil
}

// parseFlagsAround parses flags before and after the positional arguments,
// which stay in fs.Args().
func parseFlagsAround(fs *flag.FlagSet, args []string) (help bool, err error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return true, nil
			}
			return false, fmt.Errorf("%s: %w", fs.Name(), errUsage)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return false, fs.Parse(append([]string{"--"}, positional...))
}
