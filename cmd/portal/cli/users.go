package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/cmd/portal/app"
	"resellerportal/users"
	"resellerportal/web/i18n"
)

func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: portal user add|list|disable|reset-password [flags]")
		return fmt.Errorf("user: a subcommand is needed: %w", errUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("user "+sub, stderr)
	data := dataFlag(fs, getenv)
	var in users.Input
	var subagent uint64
	switch sub {
	case "add":
		fs.StringVar(&in.Username, "username", "", "user name (required): 2 to 64 letters, digits, dots, hyphens or underscores")
		fs.StringVar(&in.Role, "role", string(auth.RoleStaff), "admin, staff, finance or subagent")
		fs.StringVar(&in.DisplayName, "display-name", "", "name shown in the portal")
		fs.Uint64Var(&subagent, "subagent-uin", 0, "for role subagent: the second-level reseller's UIN (checked with the partner API)")
		fs.StringVar(&in.Expires, "expires", "", "last day the login works, YYYY-MM-DD (UTC), today or later")
	case "disable", "reset-password":
		fs.StringVar(&in.Username, "username", "", "user name (required)")
	case "list":
	default:
		return fmt.Errorf("user: unknown subcommand %q: %w", sub, errUsage)
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if sub != "list" && in.Username == "" {
		return fmt.Errorf("user %s: --username is required: %w", sub, errUsage)
	}
	if subagent != 0 {
		in.SubagentUin = strconv.FormatUint(subagent, 10)
	}
	a, err := openApp(ctx, *data, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "add":
		return addUser(ctx, a, in, stdout)
	case "list":
		return listUsers(ctx, a, stdout)
	case "disable":
		return disableUser(ctx, a, in.Username, stdout)
	default:
		return resetUserPassword(ctx, a, in.Username, stdout)
	}
}

// explain turns a service error into a sentence for the terminal: the
// same rules and words as the web form, in English.
func explain(op string, err error) error {
	fields := apperr.Fields(err)
	if len(fields) == 0 {
		return fmt.Errorf("%s: %w", op, err)
	}
	catalog, cerr := i18n.New()
	if cerr != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	en := catalog.Localizer(i18n.English)
	var parts []string
	for field, e := range fields {
		msg := en.T(e.MessageID, e.Data)
		if field != "" {
			msg = "--" + strings.ReplaceAll(field, "_", "-") + ": " + msg
		}
		parts = append(parts, msg)
	}
	sort.Strings(parts)
	return fmt.Errorf("%s: %s", op, strings.Join(parts, "; "))
}

func addUser(ctx context.Context, a *app.App, in users.Input, stdout io.Writer) error {
	u, password, err := a.Users.Create(ctx, audit.CommandLine(), in)
	if err != nil {
		return explain("user add", err)
	}
	fmt.Fprintf(stdout, "Created %s (%s). Password, shown only once: %s\n", u.Username, u.Role, password)
	return nil
}

func listUsers(ctx context.Context, a *app.App, stdout io.Writer) error {
	list, err := a.Users.List(ctx, audit.CommandLine())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tROLE\tRESELLER UIN\tEXPIRES\tSTATUS")
	for _, u := range list {
		uin, status := "", "active"
		if u.SubagentUin != 0 {
			uin = strconv.FormatUint(u.SubagentUin, 10)
		}
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, uin, users.LastDay(u), status)
	}
	return tw.Flush()
}

func disableUser(ctx context.Context, a *app.App, username string, stdout io.Writer) error {
	u, err := a.Users.ByUsername(ctx, audit.CommandLine(), username)
	if err != nil {
		return explain(fmt.Sprintf("user disable %q", username), err)
	}
	if _, err := a.Users.SetDisabled(ctx, audit.CommandLine(), u.ID, true); err != nil {
		return explain("user disable", err)
	}
	fmt.Fprintf(stdout, "Disabled %s; their sessions have ended.\n", u.Username)
	return nil
}

func resetUserPassword(ctx context.Context, a *app.App, username string, stdout io.Writer) error {
	u, err := a.Users.ByUsername(ctx, audit.CommandLine(), username)
	if err != nil {
		return explain(fmt.Sprintf("user reset-password %q", username), err)
	}
	password, err := a.Users.ResetPassword(ctx, audit.CommandLine(), u.ID, "")
	if err != nil {
		return explain("user reset-password", err)
	}
	fmt.Fprintf(stdout, "New password for %s, shown only once: %s\n", u.Username, password)
	return nil
}
