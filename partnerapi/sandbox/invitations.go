package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The life cycle of an invitation link, as QueryInvitationInfo documents
// it: created unused (Status 1); used (Status 2, UseTime, ClientUin) when
// the invited party fills in the form behind the link, which files an
// application with the partner; bound (BindTime) when the partner approves
// it. A link is valid for 30 days and deleted after 60.
const (
	invitationValidity  = 30 * day
	invitationRetention = 60 * day
)

// Errors of AcceptInvitation.
var (
	ErrInvitationNotFound = errors.New("sandbox: no such invitation (or it was deleted after 60 days)")
	ErrInvitationUsed     = errors.New("sandbox: the invitation has already been used")
	ErrInvitationExpired  = errors.New("sandbox: the invitation link has expired (links are valid for 30 days)")
	ErrNotBindingRefusal  = errors.New("sandbox: not one of the documented errors that stop a customer from being bound")
)

// bindingRefusals are the codes of the service's error list that describe a
// customer account Tencent Cloud will not bind to a partner. An invitation
// accepted with one of them files an application that ApproveClientApply
// (pass) answers with that code instead of binding.
var bindingRefusals = []string{
	"FailedOperation.BindOrganizationAccount",
	"FailedOperation.ClientBalanceIsLessOrEqualZero",
	"FailedOperation.ClientBuySP",
	"FailedOperation.ClientCreateShareUnit",
	"FailedOperation.ClientJoinShareUnit",
	"FailedOperation.ExceedMaxBindCount",
	"FailedOperation.UinAlreadyKA",
	"InvalidParameterValue.UinAlreadyClient",
	"InvalidParameterValue.UinIsSubAccount",
}

// BindingRefusals returns the error codes AcceptInvitation accepts as the
// reason a customer cannot be bound, sorted.
func BindingRefusals() []string { return slices.Clone(bindingRefusals) }

// AcceptInvitation does what the invited party does with the link of an
// invitation mail (token is the Token the outbox shows): it files the
// application that QueryPendingClientsV2 lists (QueryPendingSubAgentsV2 for
// an invitation to become a second-level reseller) and marks the invitation
// used. ApproveClientApply then binds the new customer, unless refuse names
// one of BindingRefusals, in which case approving answers that code and the
// application stays pending (refuse must be empty for a second-level
// reseller invitation). It returns the UIN of the applicant. The errors are
// ErrInvitationNotFound, ErrInvitationUsed, ErrInvitationExpired and
// ErrNotBindingRefusal.
func (s *Server) AcceptInvitation(token, refuse string) (uint64, error) {
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	return s.world.acceptInvitation(token, refuse)
}

func (w *World) acceptInvitation(token, refuse string) (uint64, error) {
	inv, ok := w.invitations[token]
	now := w.clock()
	if !ok || now.Sub(inv.created) > invitationRetention {
		return 0, fmt.Errorf("%w: %q", ErrInvitationNotFound, token)
	}
	if !inv.used.IsZero() {
		return 0, fmt.Errorf("%w: by %d at %s", ErrInvitationUsed, inv.clientUin, apiTime(inv.used))
	}
	if now.Sub(inv.created) > invitationValidity {
		return 0, fmt.Errorf("%w: created %s", ErrInvitationExpired, apiTime(inv.created))
	}
	if refuse != "" && (inv.role != 2 || !slices.Contains(bindingRefusals, refuse)) {
		return 0, fmt.Errorf("%w: %q (for a customer invitation, one of %v; none for a second-level reseller invitation)",
			ErrNotBindingRefusal, refuse, bindingRefusals)
	}
	r := w.rng
	a := &applicant{
		partner:    inv.partner,
		email:      inv.mail,
		company:    r.IntN(2) == 0,
		country:    customerCountries[r.IntN(len(customerCountries))],
		applyTime:  now.Truncate(time.Second),
		invitation: inv.token,
		refusal:    refuse,
	}
	a.mobile = phoneNumber(r, a.country)
	if a.company {
		a.name = companyName(r)
	} else {
		a.name = givenNames[r.IntN(len(givenNames))] + " " + familyNames[r.IntN(len(familyNames))]
	}
	if inv.role == 2 {
		w.nextUin += 1 + r.Uint64N(60)
		a.uin = w.nextUin
		w.pendingClients = append(w.pendingClients, a)
	} else {
		w.nextAgent += 1 + r.Uint64N(500)
		a.uin = w.nextAgent
		a.company = true
		a.material = inv.material
		w.pendingSubAgents = append(w.pendingSubAgents, a)
	}
	inv.used = a.applyTime
	inv.clientUin = a.uin
	return a.uin, nil
}

// markBound records that the partner approved the application an
// invitation led to.
func (w *World) markBound(a *applicant, at time.Time) {
	if inv, ok := w.invitations[a.invitation]; ok && a.invitation != "" {
		inv.bound = at
	}
}

// acceptBody is the optional body of POST /sandbox/invitations/{token}/accept.
type acceptBody struct {
	Refuse string `json:"Refuse"`
}

func (s *Server) serveAcceptInvitation(w http.ResponseWriter, r *http.Request) {
	var body acceptBody
	if err := decodeControl(r, &body); err != nil {
		s.writeJSON(w, http.StatusBadRequest, map[string]string{"Error": "the body must be empty or {\"Refuse\": \"<binding error code>\"}: " + err.Error()})
		return
	}
	token, refuse := r.PathValue("token"), strings.TrimSpace(body.Refuse)
	uin, err := s.AcceptInvitation(token, refuse)
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrInvitationNotFound):
			status = http.StatusNotFound
		case errors.Is(err, ErrInvitationUsed):
			status = http.StatusConflict
		case errors.Is(err, ErrInvitationExpired):
			status = http.StatusGone
		}
		s.writeJSON(w, status, map[string]string{"Error": err.Error()})
		return
	}
	s.writeJSON(w, http.StatusOK, acceptAnswer{InvitationToken: token, ClientUin: uin, Refuse: refuse})
}

// acceptAnswer is the answer of POST /sandbox/invitations/{token}/accept.
type acceptAnswer struct {
	InvitationToken string `json:"InvitationToken"`
	ClientUin       uint64 `json:"ClientUin"`
	Refuse          string `json:"Refuse,omitempty"`
}
