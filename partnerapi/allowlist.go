package partnerapi

import "errors"

// allowlisted are the actions whose documentation says they work only after
// Tencent Cloud has allowlisted the partner for them (through the partner's
// channel manager or business representative).
var allowlisted = map[string]bool{
	ActionForceQN:                           true,
	ActionCreateAccount:                     true,
	ActionCreateAndSendClientInvitationMail: true,
	ActionQueryPendingClientsV2:             true,
	ActionApproveClientApply:                true,
}

// notAllowlistedCode is the code the sandbox answers for a partner that is
// not allowlisted. The real service's code is not documented; this is the
// generic "Unauthorized operation" code of the service's error list.
const notAllowlistedCode = "UnauthorizedOperation"

// RequiresAllowlist reports whether the action is documented as usable only
// after Tencent Cloud allowlists the partner for it: ForceQN, CreateAccount,
// CreateAndSendClientInvitationMail, QueryPendingClientsV2 and
// ApproveClientApply.
func RequiresAllowlist(action string) bool { return allowlisted[action] }

// AllowlistedActions returns the actions that require the allowlist, sorted
// by name.
func AllowlistedActions() []string {
	return []string{
		ActionApproveClientApply,
		ActionCreateAccount,
		ActionCreateAndSendClientInvitationMail,
		ActionForceQN,
		ActionQueryPendingClientsV2,
	}
}

// NotAllowlisted reports whether err, returned by a call of action, says
// that the partner is not allowlisted for it: the action requires the
// allowlist and the answer is the bare code UnauthorizedOperation (not one
// of its sub-codes such as UnauthorizedOperation.NotCustomerUin, which mean
// something else). The portal shows such an action as unavailable for the
// partner instead of as a failure.
func NotAllowlisted(action string, err error) bool {
	var apiErr *APIError
	if !RequiresAllowlist(action) || !errors.As(err, &apiErr) {
		return false
	}
	if apiErr.Action != "" && apiErr.Action != action {
		return false
	}
	return apiErr.Code == notAllowlistedCode
}
