package onboarding

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// The invitation rules the partner API documents.
const (
	// MailInterval is how long the API waits between two invitation mails
	// to an address (FailedOperation.SendMailLimit180).
	MailInterval = 3 * time.Minute
	// LinkValidity is how long an invitation link can be used.
	LinkValidity = 30 * 24 * time.Hour
	// LinkRetention is how long the API answers for a link at all.
	LinkRetention = 60 * 24 * time.Hour
	// maxTokensPerCall is QueryInvitationInfo's bound on tokens per call.
	maxTokensPerCall = 100
	// MaxPageSize bounds a page of the invitations list.
	MaxPageSize = 100
)

// Roles an invitation invites to.
const (
	RoleClient   = store.InvitationClient
	RoleSubAgent = store.InvitationSubAgent
)

// Messages of the invitation rules.
var (
	errEmailRequired = apperr.InvalidField("email", "onboarding.email_required")
	errEmailTooLong  = apperr.InvalidField("email", "onboarding.email_too_long")
	errEmailInvalid  = apperr.InvalidField("email", "onboarding.email_invalid")
	errRoleInvalid   = apperr.InvalidField("role", "onboarding.role_invalid")
	errRoleForbidden = apperr.InvalidField("role", "onboarding.role_not_allowed")
	errMailWait      = apperr.InvalidField("email", "onboarding.mail_wait")
	errUnknownWait   = apperr.InvalidField("email", "onboarding.mail_wait_unknown")
)

// InviteInput is the invitation form.
type InviteInput struct {
	Email string
	Role  string // RoleClient ("" too) or RoleSubAgent
}

// InviteResult is what became of an invitation a person sent.
type InviteResult struct {
	Status string // StatusOK, StatusUnknown or StatusPending
	JobID  int64
	Email  string
	Link   string // when sent
}

// checkEmail validates an address as the partner API does, and bounds it.
func checkEmail(raw string) (string, error) {
	addr := strings.TrimSpace(raw)
	switch {
	case addr == "":
		return "", errEmailRequired
	case !utf8.ValidString(addr) || utf8.RuneCountInString(addr) > jobs.MaxEmail:
		return "", errEmailTooLong
	case !validMail(addr):
		return "", errEmailInvalid
	}
	return addr, nil
}

// validMail accepts a bare address (no display name) whose domain has a dot.
func validMail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".") && !strings.ContainsAny(s, " \t\r\n")
}

// MayInviteResellers reports whether the actor may invite second-level
// resellers: the distributor's people who manage resellers, never a
// reseller's own login.
func MayInviteResellers(actor audit.Actor) bool {
	return actor.Can(auth.WriteSubagents) && actor.OnBehalfOf() == 0
}

func checkRole(actor audit.Actor, role string) (string, error) {
	switch role {
	case "", RoleClient:
		return RoleClient, nil
	case RoleSubAgent:
		if !MayInviteResellers(actor) {
			return "", errRoleForbidden
		}
		return RoleSubAgent, nil
	}
	return "", errRoleInvalid
}

// Invite sends an invitation mail as the actor's partner (a subagent login:
// its reseller, with that reseller's own key). The API sends one mail per
// address every three minutes: an earlier invitation to the address, or
// one whose outcome is unknown, within that time is refused here, before
// any call, saying when the next may go.
func (s *Service) Invite(ctx context.Context, actor audit.Actor, in InviteInput) (InviteResult, error) {
	if err := mayOnboard(actor); err != nil {
		return InviteResult{}, err
	}
	addr, errAddr := checkEmail(in.Email)
	role, errRole := checkRole(actor, in.Role)
	if err := errors.Join(errAddr, errRole); err != nil {
		return InviteResult{}, err
	}
	_, partner, err := s.clients.ActingFor(ctx, actor)
	if err != nil {
		return InviteResult{}, err
	}
	if err := s.mailWait(ctx, partner, addr); err != nil {
		return InviteResult{}, err
	}
	w := jobs.WriteIntent{Action: partnerapi.ActionCreateAndSendClientInvitationMail, Email: addr, InvitationRole: role}
	jobID, it, err := s.submitOne(ctx, actor, "Invitation to "+addr, partner, w)
	if err != nil {
		return InviteResult{}, fmt.Errorf("invite %s: %w", addr, err)
	}
	res := InviteResult{Status: itemStatus(it), JobID: jobID, Email: addr, Link: summary(it)["InvitationLink"]}
	if res.Status == StatusFailed {
		return res, inviteRefusal(it, role)
	}
	return res, nil
}

// mailWait refuses a second invitation to an address within MailInterval
// of the partner's last one, or of one whose outcome is unknown.
func (s *Service) mailWait(ctx context.Context, partner uint64, addr string) error {
	now := s.now()
	last, err := s.db.LastInvitationTo(ctx, partner, addr)
	switch {
	case err == nil:
		if next := last.CreatedAt.Add(MailInterval); now.Before(next) {
			return errMailWait.With(map[string]any{"Time": next})
		}
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("last invitation to %s: %w", addr, err)
	}
	unknown, err := s.unknownInvitations(ctx, partner)
	if err != nil {
		return err
	}
	for _, u := range unknown {
		if strings.EqualFold(u.Email, addr) && now.Before(u.At.Add(MailInterval)) {
			return errUnknownWait.With(map[string]any{"Time": u.At.Add(MailInterval)})
		}
	}
	return nil
}

// inviteRefusal places the API's refusal of an invitation beside the field
// it concerns.
func inviteRefusal(it store.JobItem, role string) error {
	field := ""
	switch it.Code {
	case "FailedOperation.SendMailLimit180", "InvalidParameterValue.MailEmpty", "InvalidParameter.MailFormatIncorrect":
		field = "email"
	case "UnauthorizedOperation.UinNoAuth":
		if role == RoleSubAgent {
			field = "role"
		}
	}
	return refusal(partnerapi.ActionCreateAndSendClientInvitationMail, it, field, "onboarding.invite_refused")
}

// Resend sends a new invitation to the address and role of one the
// actor's partner sent before, under the same three-minute rule. Another
// partner's invitation is not found.
func (s *Service) Resend(ctx context.Context, actor audit.Actor, id int64) (InviteResult, error) {
	if err := mayOnboard(actor); err != nil {
		return InviteResult{}, err
	}
	inv, err := s.db.InvitationByID(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return InviteResult{}, errNotFound.Because(err)
	case err != nil:
		return InviteResult{}, fmt.Errorf("resend invitation %d: %w", id, err)
	case inv.PartnerUin != actor.OnBehalfOf():
		return InviteResult{}, errNotFound.Because(fmt.Errorf("invitation %d is partner %d's", id, inv.PartnerUin))
	}
	return s.Invite(ctx, actor, InviteInput{Email: inv.Email, Role: inv.Role})
}

// State is an invitation link's state.
type State string

// The states of an invitation link.
const (
	StateUnused  State = "unused"  // can still be used
	StateUsed    State = "used"    // the invited party used it (and may be bound)
	StateExpired State = "expired" // unused and older than 30 days
	StateDeleted State = "deleted" // older than 60 days: the API no longer answers for it
	StateUnknown State = "unknown" // the API has not said (yet)
)

// Invitation is an invitation the portal sent, with its state.
type Invitation struct {
	store.Invitation
	State     State
	ExpiresAt time.Time
	ClientUin uint64    // who used it
	UsedAt    time.Time // when
	BoundAt   time.Time // when the partner approved the application; zero before
}

// CanResend: an unused, expired or deleted link may be followed by a new one.
func (i Invitation) CanResend() bool { return i.State != StateUsed }

// UnknownInvitation is an invitation whose write had no answer: the API
// finds invitations only by the token its answer carries, so whether it
// went is not known.
type UnknownInvitation struct {
	Email string
	Role  string
	JobID int64
	At    time.Time
}

// ListInput selects a page of invitations.
type ListInput struct {
	Page    int  // from 1
	Size    int  // rows a page; 20 when 0, at most MaxPageSize
	Refresh bool // read the states again now
}

// Invitations is a page of the actor's partner's invitations, newest first.
type Invitations struct {
	Items       []Invitation
	Total       int
	Page, Pages int
	Unknown     []UnknownInvitation // writes whose outcome is unknown
	// The states' age and problems.
	AsOf    time.Time
	Pending bool
	Problem error
	// Blocked is why the actor cannot send invitations now (a reseller
	// login without its reseller's key), or nil.
	Blocked error
	// InviteResellers: the form offers the second-level reseller role.
	InviteResellers bool
}

// List returns a page of the invitations the actor's partner sent, with
// their states read through the cache (one QueryInvitationInfo call per
// hundred tokens, none while fresh).
func (s *Service) List(ctx context.Context, actor audit.Actor, in ListInput) (Invitations, error) {
	if err := mayOnboard(actor); err != nil {
		return Invitations{}, err
	}
	size := in.Size
	if size <= 0 {
		size = 20
	}
	size = min(size, MaxPageSize)
	page := max(in.Page, 1)
	partner := actor.OnBehalfOf()
	v := Invitations{Page: page, InviteResellers: MayInviteResellers(actor)}
	list, total, err := s.db.ListInvitations(ctx, store.InvitationFilter{PartnerUin: partner, Limit: size, Offset: (page - 1) * size})
	if err != nil {
		return v, fmt.Errorf("list invitations: %w", err)
	}
	v.Total, v.Pages = total, max(1, (total+size-1)/size)
	if v.Unknown, err = s.unknownInvitations(ctx, partner); err != nil {
		return v, err
	}
	client, _, err := s.clients.ActingFor(ctx, actor)
	if err != nil {
		v.Blocked, v.Problem = err, err
		client = nil
	}
	states := map[string]partnerapi.QueryInvitationInfoData{}
	if client != nil {
		states = s.states(ctx, client, list, in.Refresh, &v)
	}
	now := s.now()
	for _, inv := range list {
		d, found := states[inv.Token]
		v.Items = append(v.Items, stateOf(inv, d, found, now))
	}
	return v, nil
}

// asked reports whether the API can be asked for an invitation's state: its
// token came from the API, and the link is young enough to be answered for.
func asked(inv store.Invitation, now time.Time) bool {
	return !strings.HasPrefix(inv.Token, "request:") && now.Sub(inv.CreatedAt) <= LinkRetention
}

// states reads the states of a page's invitations through the cache, a
// hundred tokens a call.
func (s *Service) states(ctx context.Context, c *partnerapi.Client, list []store.Invitation, refresh bool, v *Invitations) map[string]partnerapi.QueryInvitationInfoData {
	now := s.now()
	mode := apicache.Fresh
	if refresh {
		mode = apicache.Refresh
	}
	var tokens []string
	for _, inv := range list {
		if asked(inv, now) {
			tokens = append(tokens, inv.Token)
		}
	}
	slices.Sort(tokens)
	tokens = slices.Compact(tokens)
	out := map[string]partnerapi.QueryInvitationInfoData{}
	for chunk := range slices.Chunk(tokens, maxTokensPerCall) {
		req := &partnerapi.QueryInvitationInfoRequest{InvitationToken: chunk}
		r := apicache.Read(ctx, s.cache, c.SecretID(), apicache.Invitations, mode, partnerapi.ActionQueryInvitationInfo, req,
			func(ctx context.Context) ([]partnerapi.QueryInvitationInfoData, error) {
				resp, err := c.QueryInvitationInfo(ctx, req)
				if err != nil {
					return nil, err
				}
				return resp.InvitationInfo, nil
			})
		if r.Err != nil && v.Problem == nil {
			v.Problem = r.Err
		}
		v.Pending = v.Pending || r.Pending
		if r.Value == nil {
			continue
		}
		if v.AsOf.IsZero() || r.FetchedAt.Before(v.AsOf) {
			v.AsOf = r.FetchedAt
		}
		for _, d := range *r.Value {
			out[d.InvitationToken] = d
		}
	}
	return out
}

// stateOf works out an invitation's state from the API's answer for its
// token (found: the API answered for it) at now. A link the API did not
// answer for is deleted once 60 days old, else of unknown state (not read
// yet, or a token the API does not know).
func stateOf(inv store.Invitation, d partnerapi.QueryInvitationInfoData, found bool, now time.Time) Invitation {
	created := inv.CreatedAt
	if t := apiTime(d.CreateTime); found && !t.IsZero() {
		created = t
	}
	out := Invitation{Invitation: inv, ExpiresAt: created.Add(LinkValidity), State: StateUnknown}
	age := now.Sub(created)
	switch {
	case found && d.Status == 2:
		out.State, out.UsedAt, out.BoundAt = StateUsed, apiTime(d.UseTime), apiTime(d.BindTime)
		if d.ClientUin > 0 {
			out.ClientUin = uint64(d.ClientUin)
		}
	case age > LinkRetention:
		out.State = StateDeleted
	case found && age > LinkValidity:
		out.State = StateExpired
	case found:
		out.State = StateUnused
	}
	return out
}

// unknownInvitations lists the partner's invitation writes whose outcome
// stayed unknown.
func (s *Service) unknownInvitations(ctx context.Context, partner uint64) ([]UnknownInvitation, error) {
	ended, err := s.db.EndedJobsWithUnknown(ctx)
	if err != nil {
		return nil, fmt.Errorf("invitations of unknown outcome: %w", err)
	}
	var out []UnknownInvitation
	for _, j := range ended {
		if j.Kind != jobs.KindWrites {
			continue
		}
		if p, err := jobs.ParamsOf(j); err != nil || p.AsReseller != partner {
			continue
		}
		items, err := s.db.JobItems(ctx, j.ID, []string{store.ItemUnknown}, 0)
		if err != nil {
			return nil, fmt.Errorf("invitations of unknown outcome: %w", err)
		}
		for _, it := range items {
			w, err := jobs.IntentOf(it)
			if err != nil || w.Action != partnerapi.ActionCreateAndSendClientInvitationMail {
				continue
			}
			out = append(out, UnknownInvitation{Email: w.Email, Role: w.InvitationRole, JobID: j.ID, At: it.UpdatedAt})
		}
	}
	slices.SortFunc(out, func(a, b UnknownInvitation) int { return b.At.Compare(a.At) })
	return out, nil
}

// apiTime reads a time the partner API wrote; zero when empty or malformed.
func apiTime(s string) time.Time {
	t, _ := partnerapi.ParseTime(s)
	return t
}
