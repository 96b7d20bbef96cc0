package onboarding

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Message is a mail or SMS the built-in sandbox "sent".
type Message struct {
	Kind  string // "mail" or "sms"
	To    string // an address, or "+852 61234567"
	Time  time.Time
	Code  string // an SMS's verification code
	Link  string // an invitation mail's link
	Token string // and its token
}

// The kinds of message.
const (
	KindMail = "mail"
	KindSMS  = "sms"
)

// Errors of Sandbox.Accept, which the sandbox's own errors are mapped to.
var (
	ErrInvitationNotFound = errors.New("no such invitation")
	ErrInvitationUsed     = errors.New("the invitation has been used")
	ErrInvitationExpired  = errors.New("the invitation has expired")
)

// Messages of the outbox.
var (
	errNotSandbox     = apperr.New(apperr.NotFound, "", "error.not_found")
	errTokenInvalid   = apperr.InvalidField("token", "onboarding.accept_bad_token")
	errAcceptNotFound = apperr.New(apperr.NotFound, "token", "onboarding.accept_not_found")
	errAcceptUsed     = apperr.New(apperr.Conflict, "token", "onboarding.accept_used")
	errAcceptExpired  = apperr.New(apperr.Conflict, "token", "onboarding.accept_expired")
)

// Bounds of the outbox.
const (
	maxTokenLength     = 200   // a token as posted
	maxOutboxShown     = 200   // the newest messages shown
	acceptedTokensKept = 10000 // tokens remembered as accepted
)

// OutboxEntry is one message of the outbox as a person sees it.
type OutboxEntry struct {
	Message
	// Accepted: the invitation was accepted from this page (whether it was
	// used otherwise, only the invitations list can tell).
	Accepted bool
}

// Outbox is what the sandbox's outbox shows the actor, newest first.
type Outbox struct {
	Entries []OutboxEntry
	Total   int // messages the actor may see, of which the newest are shown
	// Own: a reseller's login sees only its own reseller's mails and the
	// codes it asked for.
	Own bool
}

// OnSandbox reports whether the portal works against its built-in sandbox
// now, the only time the outbox exists.
func (s *Service) OnSandbox() bool { return s.sandbox != nil && s.onSandbox() }

// Outbox returns the mails and SMS the built-in sandbox sent, newest
// first. The partner's people see all of them; a reseller's login sees the
// mails of its own reseller's invitations and the codes it asked for.
// Anywhere but on the sandbox there is no outbox.
func (s *Service) Outbox(ctx context.Context, actor audit.Actor) (Outbox, error) {
	if err := mayOnboard(actor); err != nil {
		return Outbox{}, err
	}
	if !s.OnSandbox() {
		return Outbox{}, errNotSandbox
	}
	msgs, err := s.sandbox.Outbox()
	if err != nil {
		return Outbox{}, fmt.Errorf("read the sandbox outbox: %w", err)
	}
	partner := actor.OnBehalfOf()
	var own map[string]bool
	if partner != 0 {
		if own, err = s.tokensOf(ctx, partner); err != nil {
			return Outbox{}, err
		}
	}
	v := Outbox{Own: partner != 0}
	for _, m := range slices.Backward(msgs) {
		if partner != 0 {
			mine := (m.Kind == KindMail && own[m.Token]) || (m.Kind == KindSMS && s.codes.sentFor(m.To, partner))
			if !mine {
				continue
			}
		}
		v.Total++
		if len(v.Entries) < maxOutboxShown {
			v.Entries = append(v.Entries, OutboxEntry{Message: m, Accepted: m.Token != "" && s.accepted.has(m.Token)})
		}
	}
	return v, nil
}

// tokensOf is the set of the tokens of a partner's invitations.
func (s *Service) tokensOf(ctx context.Context, partner uint64) (map[string]bool, error) {
	out := map[string]bool{}
	for offset := 0; ; offset += 500 {
		list, total, err := s.db.ListInvitations(ctx, store.InvitationFilter{PartnerUin: partner, Limit: 500, Offset: offset})
		if err != nil {
			return nil, fmt.Errorf("invitations of %d: %w", partner, err)
		}
		for _, inv := range list {
			out[inv.Token] = true
		}
		if len(list) == 0 || offset+len(list) >= total {
			return out, nil
		}
	}
}

// Accept uses an invitation link as the invited party would (sandbox
// only): the invited account applies to the partner, and the invitation
// shows as used. A reseller's login accepts only its own reseller's
// invitations. It returns the UIN of the account that applied.
func (s *Service) Accept(ctx context.Context, actor audit.Actor, token string) (uint64, error) {
	if err := mayOnboard(actor); err != nil {
		return 0, err
	}
	if !s.OnSandbox() {
		return 0, errNotSandbox
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenLength {
		return 0, errTokenInvalid
	}
	if partner := actor.OnBehalfOf(); partner != 0 {
		own, err := s.tokensOf(ctx, partner)
		if err != nil {
			return 0, err
		}
		if !own[token] {
			return 0, errAcceptNotFound.Because(fmt.Errorf("token is not reseller %d's", partner))
		}
	}
	uin, err := s.sandbox.Accept(token)
	switch {
	case errors.Is(err, ErrInvitationNotFound):
		return 0, errAcceptNotFound.Because(err)
	case errors.Is(err, ErrInvitationUsed):
		s.accepted.add(token)
		return 0, errAcceptUsed.Because(err)
	case errors.Is(err, ErrInvitationExpired):
		return 0, errAcceptExpired.Because(err)
	case err != nil:
		return 0, fmt.Errorf("accept invitation: %w", err)
	}
	s.accepted.add(token)
	// Whoever looks at the invitations next sees the link used.
	s.cache.InvalidateAction(partnerapi.ActionQueryInvitationInfo)
	return uin, nil
}

// tokenSet is a bounded set of invitation tokens.
type tokenSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func newTokenSet() *tokenSet { return &tokenSet{m: map[string]bool{}} }

func (t *tokenSet) add(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= acceptedTokensKept {
		clear(t.m)
	}
	t.m[token] = true
}

func (t *tokenSet) has(token string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[token]
}
