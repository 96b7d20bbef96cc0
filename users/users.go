// Package users owns the portal's people: creating and changing logins,
// passwords, sign-in with its throttle, sessions ended by hand, and each
// person's own preferences. Every rule about users lives here, once; the
// web pages and the command line only parse, call and show.
package users

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/store"
)

// Field limits of the user form.
const (
	MaxUsernameLength    = 64
	MaxDisplayNameLength = 100
	// generatedPasswordLength is the length of one-time passwords.
	generatedPasswordLength = 16
)

// usernamePattern is the user-name rule: 2 to 64 letters, digits, dots,
// hyphens and underscores.
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{2,64}$`)

// Resellers checks that a UIN is one of the partner's second-level
// resellers: nil when it is, an error matching ErrUnknownReseller when it
// is not, another error when it could not be checked.
type Resellers interface {
	CheckReseller(ctx context.Context, uin uint64) error
}

// ErrUnknownReseller reports a UIN that is not the partner's reseller.
var ErrUnknownReseller = errors.New("not a second-level reseller of this partner")

// Options configures a Service.
type Options struct {
	DB        *store.DB
	Hasher    *auth.Hasher
	Throttle  *auth.Throttle
	Resellers Resellers
	Now       func() time.Time
}

// Service holds the users' use cases.
type Service struct {
	db        *store.DB
	hasher    *auth.Hasher
	throttle  *auth.Throttle
	resellers Resellers
	now       func() time.Time
	current   currentCache
}

// New returns the users service.
func New(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Throttle == nil {
		opts.Throttle = auth.NewThrottle(opts.Now)
	}
	return &Service{db: opts.DB, hasher: opts.Hasher, throttle: opts.Throttle, resellers: opts.Resellers, now: opts.Now}
}

// Input is a user as an admin types it in, every field as text: the
// service parses and checks each one.
type Input struct {
	Username    string
	DisplayName string
	Role        string
	SubagentUin string // the second-level reseller a subagent login acts for
	Expires     string // last day the login works, YYYY-MM-DD (UTC); "" for never
}

// Messages of the user rules.
var (
	errBadUsername     = apperr.InvalidField("username", "users.bad_username")
	errTaken           = apperr.New(apperr.Conflict, "username", "users.taken")
	errBadDisplayName  = apperr.InvalidField("display_name", "users.bad_display_name")
	errBadRole         = apperr.InvalidField("role", "users.bad_role")
	errOwnRole         = apperr.InvalidField("role", "users.own_role")
	errBadUin          = apperr.InvalidField("subagent_uin", "users.bad_uin")
	errNeedsUin        = apperr.InvalidField("subagent_uin", "users.subagent_needs_uin")
	errUinOnlySubagent = apperr.InvalidField("subagent_uin", "users.uin_only_subagent")
	errUnknownReseller = apperr.InvalidField("subagent_uin", "users.unknown_reseller")
	errResellerUnknown = apperr.New(apperr.Unavailable, "subagent_uin", "users.reseller_unchecked")
	errBadExpiry       = apperr.InvalidField("expires", "users.bad_expiry")
	errPastExpiry      = apperr.InvalidField("expires", "users.past_expiry")
	errOwnDisable      = apperr.New(apperr.Conflict, "", "users.own_disable")
	errNotFound        = apperr.New(apperr.NotFound, "", "error.not_found")
	errForbidden       = apperr.New(apperr.Forbidden, "", "error.forbidden")
)

// CheckUsername applies the user-name rule.
func CheckUsername(name string) error {
	if !usernamePattern.MatchString(name) {
		return errBadUsername
	}
	return nil
}

// parse checks an input and returns the user it describes; the error joins
// every field's problem. The username is checked only when creating, since
// it never changes.
func (s *Service) parse(ctx context.Context, in Input, create bool) (store.User, error) {
	u := store.User{Username: strings.TrimSpace(in.Username), DisplayName: strings.TrimSpace(in.DisplayName)}
	var errs []error
	if create {
		if err := CheckUsername(u.Username); err != nil {
			errs = append(errs, err)
		}
	}
	if utf8.RuneCountInString(u.DisplayName) > MaxDisplayNameLength || strings.IndexFunc(u.DisplayName, unicode.IsControl) >= 0 ||
		!utf8.ValidString(u.DisplayName) {
		errs = append(errs, errBadDisplayName)
	}
	role, err := auth.ParseRole(strings.TrimSpace(in.Role))
	if err != nil {
		errs = append(errs, errBadRole)
	}
	u.Role = string(role)
	uinText := strings.TrimSpace(in.SubagentUin)
	switch {
	case uinText == "" && role == auth.RoleSubagent:
		errs = append(errs, errNeedsUin)
	case uinText == "":
	case role != auth.RoleSubagent && err == nil:
		errs = append(errs, errUinOnlySubagent)
	default:
		uin, perr := strconv.ParseUint(uinText, 10, 64)
		if perr != nil || uin == 0 || len(uinText) > 20 {
			errs = append(errs, errBadUin)
		} else {
			u.SubagentUin = uin
		}
	}
	if exp := strings.TrimSpace(in.Expires); exp != "" {
		day, perr := time.Parse(time.DateOnly, exp)
		today := s.now().UTC().Truncate(24 * time.Hour)
		switch {
		case perr != nil || len(exp) != len(time.DateOnly):
			errs = append(errs, errBadExpiry)
		case day.Before(today):
			errs = append(errs, errPastExpiry)
		default:
			// The login works through the whole of its last day, in UTC.
			u.ExpiresAt = day.Add(24 * time.Hour)
		}
	}
	if len(errs) == 0 && u.SubagentUin != 0 && s.resellers != nil {
		// Only a well-formed form costs a partner API call.
		if err := s.resellers.CheckReseller(ctx, u.SubagentUin); errors.Is(err, ErrUnknownReseller) {
			errs = append(errs, errUnknownReseller)
		} else if err != nil {
			errs = append(errs, errResellerUnknown.Because(err))
		}
	}
	return u, errors.Join(errs...)
}

// params are the audit parameters describing a user.
func params(u store.User) map[string]string {
	p := map[string]string{"user": u.Username, "role": u.Role}
	if u.DisplayName != "" {
		p["display_name"] = u.DisplayName
	}
	if u.SubagentUin != 0 {
		p["subagent_uin"] = strconv.FormatUint(u.SubagentUin, 10)
	}
	if !u.ExpiresAt.IsZero() {
		p["expires"] = LastDay(u)
	}
	return p
}

// LastDay is the last day a login works (YYYY-MM-DD, UTC), or "".
func LastDay(u store.User) string {
	if u.ExpiresAt.IsZero() {
		return ""
	}
	return u.ExpiresAt.Add(-24 * time.Hour).UTC().Format(time.DateOnly)
}

func (s *Service) require(actor audit.Actor, p auth.Permission) error {
	if !actor.Can(p) {
		return errForbidden
	}
	return nil
}

// newPassword makes a one-time password and its hash.
func (s *Service) newPassword(ctx context.Context) (password, hash string, err error) {
	if password, err = auth.RandomPassword(generatedPasswordLength); err != nil {
		return "", "", err
	}
	hash, err = s.hasher.Hash(ctx, password)
	return password, hash, err
}

// Create adds a user with a random one-time password, which it returns to
// be shown once.
func (s *Service) Create(ctx context.Context, actor audit.Actor, in Input) (store.User, string, error) {
	if err := s.require(actor, auth.ManageUsers); err != nil {
		return store.User{}, "", err
	}
	u, err := s.parse(ctx, in, true)
	if err != nil {
		return store.User{}, "", err
	}
	password, hash, err := s.newPassword(ctx)
	if err != nil {
		return store.User{}, "", fmt.Errorf("create user %q: %w", u.Username, err)
	}
	u.PasswordHash, u.MustChangePassword = hash, true
	var created store.User
	err = s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		var err error
		if created, err = tx.CreateUser(ctx, u); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, actor.Entry("user.create", 0, params(created)))
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return store.User{}, "", errTaken
	}
	if err != nil {
		return store.User{}, "", fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return created, password, nil
}

// Get returns a user for an admin.
func (s *Service) Get(ctx context.Context, actor audit.Actor, id int64) (store.User, error) {
	if err := s.require(actor, auth.ManageUsers); err != nil {
		return store.User{}, err
	}
	u, err := s.db.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errNotFound
	}
	return u, err
}

// ByUsername returns a user by name, for the command line.
func (s *Service) ByUsername(ctx context.Context, actor audit.Actor, username string) (store.User, error) {
	if err := s.require(actor, auth.ManageUsers); err != nil {
		return store.User{}, err
	}
	u, err := s.db.UserByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, errNotFound.Because(err)
	}
	return u, err
}

// List returns every user.
func (s *Service) List(ctx context.Context, actor audit.Actor) ([]store.User, error) {
	if err := s.require(actor, auth.ManageUsers); err != nil {
		return nil, err
	}
	return s.db.ListUsers(ctx)
}

// Update changes a user's display name, role, reseller and expiry; nobody
// changes their own role.
func (s *Service) Update(ctx context.Context, actor audit.Actor, id int64, in Input) (store.User, error) {
	cur, err := s.Get(ctx, actor, id)
	if err != nil {
		return store.User{}, err
	}
	in.Username = cur.Username
	changed, err := s.parse(ctx, in, false)
	if err != nil {
		return store.User{}, err
	}
	if actor.UserID == cur.ID && changed.Role != cur.Role {
		return store.User{}, errOwnRole
	}
	changed.ID = cur.ID
	var updated store.User
	err = s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		var err error
		if updated, err = tx.UpdateUser(ctx, changed); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, actor.Entry("user.update", 0, params(updated)))
		return err
	})
	if err != nil {
		return store.User{}, fmt.Errorf("update user %d: %w", id, err)
	}
	return updated, nil
}

// ResetPassword gives a user a new one-time password, returned to be shown
// once, and ends their sessions; an admin resetting their own keeps the
// session keep (the store id of the current one).
func (s *Service) ResetPassword(ctx context.Context, actor audit.Actor, id int64, keep string) (string, error) {
	u, err := s.Get(ctx, actor, id)
	if err != nil {
		return "", err
	}
	password, hash, err := s.newPassword(ctx)
	if err != nil {
		return "", fmt.Errorf("reset password of %q: %w", u.Username, err)
	}
	if actor.UserID != u.ID {
		keep = ""
	}
	err = s.replacePassword(ctx, u, hash, true, keep, actor.Entry("user.reset_password", 0, map[string]string{"user": u.Username}))
	if err != nil {
		return "", fmt.Errorf("reset password of %q: %w", u.Username, err)
	}
	return password, nil
}

// SetDisabled disables a user, ending their sessions at once, or enables
// them again; nobody disables themselves.
func (s *Service) SetDisabled(ctx context.Context, actor audit.Actor, id int64, disabled bool) (store.User, error) {
	u, err := s.Get(ctx, actor, id)
	if err != nil {
		return store.User{}, err
	}
	if actor.UserID == u.ID {
		return store.User{}, errOwnDisable
	}
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	err = s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.SetDisabled(ctx, u.ID, disabled); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, actor.Entry(action, 0, map[string]string{"user": u.Username}))
		return err
	})
	if err != nil {
		return store.User{}, fmt.Errorf("%s %q: %w", action, u.Username, err)
	}
	u.Disabled = disabled
	return u, nil
}

// Sessions lists a user's sessions, for themselves or an admin.
func (s *Service) Sessions(ctx context.Context, actor audit.Actor, ownerID int64) ([]store.Session, error) {
	if actor.UserID != ownerID {
		if err := s.require(actor, auth.ManageUsers); err != nil {
			return nil, err
		}
	}
	list, err := s.db.SessionsForUser(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	live := list[:0]
	for _, sess := range list {
		if sess.ExpiresAt.IsZero() || now.Before(sess.ExpiresAt) {
			live = append(live, sess)
		}
	}
	return live, nil
}

// EndSession ends one session of a user: one's own, or anyone's for an admin.
func (s *Service) EndSession(ctx context.Context, actor audit.Actor, ownerID int64, sessionID string) error {
	list, err := s.Sessions(ctx, actor, ownerID)
	if err != nil {
		return err
	}
	var owner string
	found := false
	for _, sess := range list {
		found = found || sess.ID == sessionID
	}
	if !found {
		return errNotFound
	}
	if u, err := s.db.UserByID(ctx, ownerID); err == nil {
		owner = u.Username
	}
	return s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, sessionID); err != nil {
			return err
		}
		_, err := tx.AppendAudit(ctx, actor.Entry("session.end", 0, map[string]string{"user": owner}))
		return err
	})
}

// EnsureFirstAdmin creates the user admin when the portal has no
// administrator yet (users added at the command line before the first start
// do not count), with password or, when it is empty, a random one that it
// returns to be printed once. created says whether it made one.
func (s *Service) EnsureFirstAdmin(ctx context.Context, password string) (created bool, generated string, err error) {
	list, err := s.db.ListUsers(ctx)
	if err != nil {
		return false, "", err
	}
	for _, u := range list {
		if u.Role == string(auth.RoleAdmin) {
			return false, "", nil
		}
	}
	if password == "" {
		if generated, err = auth.RandomPassword(20); err != nil {
			return false, "", err
		}
		password = generated
	} else if err := auth.ValidatePassword("admin", password); err != nil {
		return false, "", apperr.InvalidField("password", "account.weak_password").Because(err)
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return false, "", err
	}
	err = s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		// A printed password is a one-time one; a password the operator
		// chose (PORTAL_ADMIN_PASSWORD) is theirs already.
		// No display name: pages name the first admin in the reader's language.
		u, err := tx.CreateUser(ctx, store.User{Username: "admin", Role: string(auth.RoleAdmin),
			PasswordHash: hash, MustChangePassword: generated != ""})
		if err != nil {
			return err
		}
		p := params(u)
		p["reason"] = "first run"
		_, err = tx.AppendAudit(ctx, audit.System().Entry("user.create", 0, p))
		return err
	})
	if err != nil {
		return false, "", fmt.Errorf("create the first admin: %w", err)
	}
	return true, generated, nil
}
