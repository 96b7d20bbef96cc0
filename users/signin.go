package users

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	// Time zone names must work wherever the portal runs, tzdata or not.
	_ "time/tzdata"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/store"
)

// Messages of sign-in and of one's own account.
var (
	// ErrSignInFailed is the one answer to every failed sign-in (unknown
	// user, wrong password, disabled, expired), so none can be told apart.
	ErrSignInFailed   = apperr.New(apperr.Invalid, "", "login.failed")
	errBusy           = apperr.New(apperr.Busy, "", "error.busy")
	errWrongPassword  = apperr.InvalidField("current", "account.wrong_password")
	errMismatch       = apperr.InvalidField("confirm", "account.mismatch")
	errWeakPassword   = apperr.InvalidField("new", "account.weak_password")
	errBadLanguage    = apperr.InvalidField("lang", "error.bad_request")
	errBadTimeZone    = apperr.InvalidField("time_zone", "account.bad_time_zone")
	errThrottledLogin = apperr.New(apperr.Throttled, "", "login.throttled")
)

// throttled is the refusal of an attempt while the throttle holds it back.
func throttled(wait time.Duration) error {
	return errThrottledLogin.With(map[string]any{"Wait": wait.Round(time.Second).String()})
}

// MaySignIn says whether a user's account currently allows working.
func (s *Service) MaySignIn(u store.User) bool {
	if u.Disabled {
		return false
	}
	return u.ExpiresAt.IsZero() || s.now().Before(u.ExpiresAt)
}

// SignIn checks a user name and password from a client address and
// returns the user. Every failure is ErrSignInFailed, a throttled attempt
// apperr.Throttled, and a portal too busy checking other passwords
// apperr.Busy. Failed attempts are audited one by one; refused ones are
// gathered into one row per address and window (see RecordRefusals).
func (s *Service) SignIn(ctx context.Context, username, password, addr string) (store.User, error) {
	// An attempt, once begun, is carried to its end and recorded even when
	// its client hangs up: the throttle has counted it and the log must
	// show it. The wait for a hashing slot has its own limit.
	ctx = context.WithoutCancel(ctx)
	username = strings.TrimSpace(username)
	key := strings.ToLower(username)
	attempt, wait, ok := s.throttle.Begin(key, addr)
	if !ok {
		return store.User{}, throttled(wait)
	}
	valid, user, err := s.checkCredentials(ctx, username, password)
	switch {
	case errors.Is(err, auth.ErrBusy):
		attempt.Abandoned()
		return store.User{}, errBusy.Because(err)
	case err != nil:
		attempt.Abandoned()
		return store.User{}, err
	case !valid:
		attempt.Failed()
		e := store.AuditEntry{Actor: audit.UntrustedName(username), Action: "login.failed", Outcome: store.OutcomeFailed, ClientAddr: addr}
		if _, err := s.db.AppendAudit(ctx, e); err != nil {
			return store.User{}, fmt.Errorf("audit a failed sign-in: %w", err)
		}
		return store.User{}, ErrSignInFailed
	}
	attempt.Succeeded()
	if _, err := s.db.AppendAudit(ctx, audit.UserActor(user, addr).Entry("login", 0, nil)); err != nil {
		return store.User{}, fmt.Errorf("audit a sign-in: %w", err)
	}
	return user, nil
}

// checkCredentials checks a password; an unknown or over-long name takes the
// same path and time as a known one.
func (s *Service) checkCredentials(ctx context.Context, username, password string) (bool, store.User, error) {
	if len(password) > auth.MaxPasswordLength {
		password = password[:auth.MaxPasswordLength]
	}
	var u store.User
	err := store.ErrNotFound
	if len(username) <= MaxUsernameLength {
		u, err = s.db.UserByUsername(ctx, username)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, store.User{}, s.hasher.Dummy(ctx, password)
	case err != nil:
		return false, store.User{}, err
	}
	match, err := s.hasher.Check(ctx, u.PasswordHash, password)
	if errors.Is(err, auth.ErrBusy) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false, store.User{}, err
	}
	// A damaged stored hash is a failed sign-in, not an error page.
	return err == nil && match && s.MaySignIn(u), u, nil
}

// RecordRefusals writes one audit row for each burst of refused sign-in
// attempts whose window has ended (every burst when all is true, at
// shutdown): an anonymous client can neither grow the log nor hold the
// database writer at will.
func (s *Service) RecordRefusals(ctx context.Context, all bool) error {
	bursts := s.throttle.TakeBursts(all)
	if len(bursts) == 0 {
		return nil
	}
	return s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		for _, b := range bursts {
			names := make([]string, len(b.Names))
			for i, n := range b.Names {
				names[i] = audit.UntrustedName(n)
			}
			_, err := tx.AppendAudit(ctx, store.AuditEntry{
				Action: "login.throttled", Outcome: store.OutcomeFailed, ClientAddr: b.Addr,
				Params: map[string]string{
					"attempts": strconv.Itoa(b.Count), "first": b.First.UTC().Format(time.RFC3339),
					"last": b.Last.UTC().Format(time.RFC3339), "names": strings.Join(names, ", "),
				},
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// SignOut ends the actor's session (its store id) and records it.
func (s *Service) SignOut(ctx context.Context, actor audit.Actor, sessionID string) error {
	return s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if sessionID != "" {
			if err := tx.DeleteSession(ctx, sessionID); err != nil {
				return err
			}
		}
		_, err := tx.AppendAudit(ctx, actor.Entry("logout", 0, nil))
		return err
	})
}

// ChangeOwnPassword changes the actor's password after checking the
// current one (throttled and audited like a sign-in, since it is one), and
// ends the actor's other sessions: a change is often a reaction to a leak.
func (s *Service) ChangeOwnPassword(ctx context.Context, actor audit.Actor, current, next, confirm, keepSession string) error {
	u, err := s.db.UserByID(ctx, actor.UserID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	attempt, wait, ok := s.throttle.Begin(strings.ToLower(u.Username), actor.Addr)
	if !ok {
		return throttled(wait)
	}
	match, err := s.hasher.Check(ctx, u.PasswordHash, current)
	if errors.Is(err, auth.ErrBusy) {
		attempt.Abandoned()
		return errBusy.Because(err)
	}
	if err != nil || !match {
		attempt.Failed()
		e := actor.Entry("password.change", 0, map[string]string{"user": u.Username})
		e.Outcome, e.Code = store.OutcomeFailed, "wrong_password"
		if _, err := s.db.AppendAudit(ctx, e); err != nil {
			return fmt.Errorf("audit a wrong current password: %w", err)
		}
		return errWrongPassword
	}
	attempt.Succeeded()
	if next != confirm {
		return errMismatch
	}
	if err := auth.ValidatePassword(u.Username, next); err != nil {
		return errWeakPassword.Because(err)
	}
	hash, err := s.hasher.Hash(ctx, next)
	if errors.Is(err, auth.ErrBusy) {
		return errBusy.Because(err)
	}
	if err != nil {
		return err
	}
	return s.replacePassword(ctx, u, hash, false, keepSession, actor.Entry("password.change", 0, map[string]string{"user": u.Username}))
}

// replacePassword stores a new password hash, ends the user's sessions but
// keep (the store id of one to keep, or ""), and records it, in one
// transaction. oneTime marks a password someone else gave them.
func (s *Service) replacePassword(ctx context.Context, u store.User, hash string, oneTime bool, keep string, entry store.AuditEntry) error {
	return s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, u.ID, hash, oneTime); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, u.ID, keep); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, entry)
		return err
	})
}

// maxTimeZoneLength bounds a time zone name.
const maxTimeZoneLength = 64

// TimeZone returns the location of a time zone name: "" or a name Go does
// not know (a hostile cookie, an old name) is UTC.
func TimeZone(name string) *time.Location {
	if name == "" || len(name) > maxTimeZoneLength {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// SetTimeZone records the actor's time zone, an IANA name such as
// "Asia/Shanghai" ("" follows the browser); only that field changes.
func (s *Service) SetTimeZone(ctx context.Context, actor audit.Actor, zone string) error {
	zone = strings.TrimSpace(zone)
	if zone != "" {
		if _, err := time.LoadLocation(zone); err != nil || len(zone) > maxTimeZoneLength || zone == "Local" {
			return errBadTimeZone
		}
	}
	return s.db.WriteDetached(ctx, func(tx *store.Tx) error { return tx.SetTimeZone(ctx, actor.UserID, zone) })
}

// SetLanguage records the actor's language; only that field changes.
func (s *Service) SetLanguage(ctx context.Context, actor audit.Actor, lang string, known func(string) bool) error {
	if !known(lang) {
		return errBadLanguage
	}
	return s.db.WriteDetached(ctx, func(tx *store.Tx) error { return tx.SetLocale(ctx, actor.UserID, lang) })
}
