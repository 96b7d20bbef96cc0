// Package audit is the audit log's side of every use case: who acts (an
// Actor), the row each action appends, and finance's reading and export of
// the log.
package audit

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"resellerportal/auth"
	"resellerportal/store"
)

// Actor is who does something and from where: a signed-in person, the
// command line, the system itself or a job acting for the person who
// started it.
type Actor struct {
	auth.Principal
	// Addr is the client's address, "local" for the command line, or
	// "job N" for a background job.
	Addr string
}

// UserActor is a portal user acting from addr.
func UserActor(u store.User, addr string) Actor {
	return Actor{Principal: Principal(u), Addr: addr}
}

// Principal is a stored user as authorization sees them.
func Principal(u store.User) auth.Principal {
	return auth.Principal{UserID: u.ID, Username: u.Username, Role: auth.Role(u.Role), SubagentUin: u.SubagentUin}
}

// CommandLine is an operator at the portal's command line.
func CommandLine() Actor {
	return Actor{Principal: auth.Principal{Username: "cli", Role: auth.RoleSystem}, Addr: "local"}
}

// System is the portal acting on its own (the first run, for one).
func System() Actor {
	return Actor{Principal: auth.Principal{Username: "system", Role: auth.RoleSystem}}
}

// Entry starts the audit row of an action the actor took; the outcome is
// "ok" until the caller says otherwise.
func (a Actor) Entry(action string, target uint64, params map[string]string) store.AuditEntry {
	return store.AuditEntry{
		Actor:      a.Username,
		ActorRole:  string(a.Role),
		OnBehalfOf: a.OnBehalfOf(),
		Action:     action,
		TargetUin:  target,
		Params:     params,
		Outcome:    store.OutcomeOK,
		ClientAddr: a.Addr,
	}
}

// MaxNameLength is how much of a name typed by someone unknown (a sign-in
// attempt's user name) the log keeps.
const MaxNameLength = 64

// UntrustedName makes a name typed by an unknown person fit for the
// append-only log: at most MaxNameLength characters, control and invisible
// characters shown as escapes, so nobody can grow the log or forge rows
// with what they type.
func UntrustedName(s string) string {
	var b strings.Builder
	n := 0
	for len(s) > 0 && n < MaxNameLength {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		n++
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x??`)
		case unicode.IsPrint(r) && r != '\\':
			b.WriteRune(r)
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteString(strings.Trim(strconv.QuoteRuneToASCII(r), "'"))
		}
	}
	if len(s) > 0 {
		b.WriteString("…")
	}
	return b.String()
}
