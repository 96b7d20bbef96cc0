package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Role is what kind of user someone is.
type Role string

// The portal's roles.
const (
	RoleAdmin    Role = "admin"    // users, API credentials, settings, everything
	RoleStaff    Role = "staff"    // the partner's day-to-day work with customers
	RoleFinance  Role = "finance"  // read-only: money, audit log, exports
	RoleSubagent Role = "subagent" // a second-level reseller's delegated login
	// RoleSystem is the portal itself and its command line: not a role a
	// user can have, but the one recorded when an operator acts at the
	// console, which may do everything.
	RoleSystem Role = "system"
)

// Roles lists every role, most powerful first.
func Roles() []Role { return []Role{RoleAdmin, RoleStaff, RoleFinance, RoleSubagent} }

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles(), r) {
		return "", fmt.Errorf("unknown role %q", s)
	}
	return r, nil
}

// Permission is one kind of thing a user may do.
type Permission string

// The portal's permissions.
const (
	ViewDashboard     Permission = "dashboard.view"
	ManageUsers       Permission = "users.manage"
	ManageCredentials Permission = "credentials.manage"
	ManageSettings    Permission = "settings.manage"
	ViewCustomers     Permission = "customers.view"
	WriteCustomers    Permission = "customers.write" // onboarding, remarks, suspension
	ViewSubagents     Permission = "subagents.view"
	WriteSubagents    Permission = "subagents.write" // approvals, credit pools
	ViewCredit        Permission = "credit.view"
	WriteCredit       Permission = "credit.write"
	ViewBills         Permission = "bills.view"
	ViewVouchers      Permission = "vouchers.view"
	ViewCommission    Permission = "commission.view"
	ViewAudit         Permission = "audit.view"
	Export            Permission = "export"
	ViewAPIStatus     Permission = "apistatus.view"
	OwnSessions       Permission = "sessions.own" // see and end one's own sessions
	ViewJobs          Permission = "jobs.view"    // see and cancel one's own background jobs
	RunJobs           Permission = "jobs.run"     // start refresh jobs (reads only)
	ManageAllJobs     Permission = "jobs.all"     // see and cancel everyone's jobs
)

// allPermissions is every permission: an admin's, and the console's.
var allPermissions = []Permission{ViewDashboard, ManageUsers, ManageCredentials, ManageSettings, ViewCustomers,
	WriteCustomers, ViewSubagents, WriteSubagents, ViewCredit, WriteCredit, ViewBills, ViewVouchers, ViewCommission,
	ViewAudit, Export, ViewAPIStatus, OwnSessions, ViewJobs, RunJobs, ManageAllJobs}

// grants is the whole permission matrix in one place.
var grants = map[Role][]Permission{
	RoleAdmin:  allPermissions,
	RoleSystem: allPermissions,
	RoleStaff: {ViewDashboard, ViewCustomers, WriteCustomers, ViewSubagents, WriteSubagents, ViewCredit,
		WriteCredit, ViewBills, ViewVouchers, ViewCommission, OwnSessions, ViewJobs, RunJobs},
	RoleFinance: {ViewDashboard, ViewCustomers, ViewCredit, ViewBills, ViewVouchers, ViewCommission, ViewAudit,
		Export, OwnSessions, ViewJobs},
	// A reseller's login sees its own jobs: the bulk writes it asked for.
	RoleSubagent: {ViewDashboard, ViewCustomers, WriteCustomers, ViewCredit, WriteCredit, ViewBills,
		ViewVouchers, OwnSessions, ViewJobs},
}

// Can reports whether the role holds the permission.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[r], p) }

// Principal is the signed-in user as authorization sees them.
type Principal struct {
	UserID      int64
	Username    string
	Role        Role
	SubagentUin uint64 // the second-level reseller a subagent login acts for
}

// Can reports whether the principal holds the permission.
func (p Principal) Can(perm Permission) bool { return p.Role.Can(perm) }

// OnBehalfOf is the second-level reseller the principal acts for: its UIN
// for a subagent login, 0 for people who work for the partner itself.
func (p Principal) OnBehalfOf() uint64 {
	if p.Role == RoleSubagent {
		return p.SubagentUin
	}
	return 0
}

// ErrForbidden is returned when a principal may not touch an object.
var ErrForbidden = errors.New("forbidden")

// ErrUnknownCustomer is returned by a CustomerOwners that does not know a UIN.
var ErrUnknownCustomer = errors.New("unknown customer")

// CustomerOwners tells which second-level reseller a customer belongs to:
// 0 for the partner's direct customers, ErrUnknownCustomer for a UIN that is
// not a customer of the partner at all.
type CustomerOwners interface {
	CustomerOwner(ctx context.Context, uin uint64) (subagentUin uint64, err error)
}

// AuthorizeCustomer decides whether p may see or act on customer uin: staff,
// finance and admins work for the partner and reach every customer it has;
// a subagent login reaches only its own reseller's customers.
func AuthorizeCustomer(ctx context.Context, p Principal, uin uint64, owners CustomerOwners) error {
	owner, err := owners.CustomerOwner(ctx, uin)
	switch {
	case errors.Is(err, ErrUnknownCustomer):
		return fmt.Errorf("customer %d: %w", uin, ErrForbidden)
	case err != nil:
		return fmt.Errorf("authorize customer %d: %w", uin, err)
	}
	if p.Role != RoleSubagent {
		return nil
	}
	if p.SubagentUin == 0 || owner != p.SubagentUin {
		return fmt.Errorf("customer %d is not a customer of reseller %d: %w", uin, p.SubagentUin, ErrForbidden)
	}
	return nil
}
