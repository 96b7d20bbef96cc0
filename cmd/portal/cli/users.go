package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"resellerportal/auth"
	"resellerportal/store"
)

func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: portal user add|list|disable|reset-password [flags]")
		return fmt.Errorf("user: a subcommand is needed: %w", errUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("user "+sub, stderr)
	data := dataFlag(fs, getenv)
	var username, role, display, expires string
	var subagent uint64
	switch sub {
	case "add":
		fs.StringVar(&username, "username", "", "user name (required)")
		fs.StringVar(&role, "role", string(auth.RoleStaff), "admin, staff, finance or subagent")
		fs.StringVar(&display, "display-name", "", "name shown in the portal")
		fs.Uint64Var(&subagent, "subagent-uin", 0, "for role subagent: the second-level reseller's UIN")
		fs.StringVar(&expires, "expires", "", "last day the login works, YYYY-MM-DD (UTC)")
	case "disable", "reset-password":
		fs.StringVar(&username, "username", "", "user name (required)")
	case "list":
	default:
		return fmt.Errorf("user: unknown subcommand %q: %w", sub, errUsage)
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if sub != "list" && username == "" {
		return fmt.Errorf("user %s: --username is required: %w", sub, errUsage)
	}
	db, _, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		return addUser(ctx, db, username, role, display, subagent, expires, stdout)
	case "list":
		return listUsers(ctx, db, stdout)
	case "disable":
		return disableUser(ctx, db, username, stdout)
	default:
		return resetUserPassword(ctx, db, username, stdout)
	}
}

// cliAudit is an audit row for a change made at the command line.
func cliAudit(action string, target uint64, params map[string]string) store.AuditEntry {
	return store.AuditEntry{Actor: "cli", ActorRole: "system", Action: action, TargetUin: target, Params: params, Outcome: "ok", ClientAddr: "local"}
}

func addUser(ctx context.Context, db *store.DB, username, role, display string, subagent uint64, expires string, stdout io.Writer) error {
	r, err := auth.ParseRole(role)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	if (r == auth.RoleSubagent) != (subagent != 0) {
		return errors.New("user add: --subagent-uin is required for role subagent and only for it")
	}
	u := store.User{Username: username, DisplayName: display, Role: string(r), SubagentUin: subagent}
	if expires != "" {
		day, err := time.Parse(time.DateOnly, expires)
		if err != nil {
			return fmt.Errorf("user add: --expires must be YYYY-MM-DD: %w", err)
		}
		u.ExpiresAt = day.Add(24 * time.Hour)
	}
	password, err := auth.RandomPassword(16)
	if err != nil {
		return err
	}
	if u.PasswordHash, err = auth.HashPassword(password); err != nil {
		return err
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		created, err := tx.CreateUser(ctx, u)
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, cliAudit("user.create", created.SubagentUin, map[string]string{"user": created.Username, "role": created.Role}))
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("user add: a user named %q exists already", username)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created %s (%s). Password, shown only once: %s\n", username, r, password)
	return nil
}

func listUsers(ctx context.Context, db *store.DB, stdout io.Writer) error {
	users, err := db.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tROLE\tRESELLER UIN\tEXPIRES\tSTATUS")
	for _, u := range users {
		uin, exp, status := "", "", "active"
		if u.SubagentUin != 0 {
			uin = strconv.FormatUint(u.SubagentUin, 10)
		}
		if !u.ExpiresAt.IsZero() {
			exp = u.ExpiresAt.Add(-24 * time.Hour).Format(time.DateOnly)
		}
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, uin, exp, status)
	}
	return tw.Flush()
}

func disableUser(ctx context.Context, db *store.DB, username string, stdout io.Writer) error {
	u, err := db.UserByUsername(ctx, username)
	if err != nil {
		return fmt.Errorf("user disable %q: %w", username, err)
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetDisabled(ctx, u.ID, true); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, cliAudit("user.disable", 0, map[string]string{"user": u.Username}))
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Disabled %s; their sessions have ended.\n", u.Username)
	return nil
}

func resetUserPassword(ctx context.Context, db *store.DB, username string, stdout io.Writer) error {
	u, err := db.UserByUsername(ctx, username)
	if err != nil {
		return fmt.Errorf("user reset-password %q: %w", username, err)
	}
	password, err := auth.RandomPassword(16)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, cliAudit("user.reset_password", 0, map[string]string{"user": u.Username}))
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New password for %s, shown only once: %s\n", u.Username, password)
	return nil
}
