package partnerapi

import (
	"errors"
	"fmt"
)

// APIError is an error answered by the partner API: a documented code, the
// service's message and the RequestId to quote to Tencent Cloud support.
type APIError struct {
	Action    string
	Code      string
	Message   string
	RequestId string
}

func (e *APIError) Error() string {
	if e.RequestId == "" {
		return fmt.Sprintf("%s: %s: %s", e.Action, e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s (RequestId %s)", e.Action, e.Code, e.Message, e.RequestId)
}

// ErrOutcomeUnknown matches, with errors.Is, a write whose request reached
// the wire but whose answer never came back: it may or may not have been
// applied, and only reading back can tell.
var ErrOutcomeUnknown = errors.New("the partner API may or may not have applied this change")

// OutcomeUnknownError is returned for a write whose outcome is unknown.
type OutcomeUnknownError struct {
	Action string
	Err    error // what broke: a timeout, a dropped connection, an unreadable answer
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("%s: outcome unknown, the request was sent but no answer arrived: %v", e.Action, e.Err)
}

// Unwrap returns the transport error behind the unknown outcome.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrOutcomeUnknown) true.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// ErrorCode returns the partner API error code inside err, or "" when err
// is not an answer from the API.
func ErrorCode(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return ""
}

// RequestID returns the partner API RequestId inside err, or "".
func RequestID(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.RequestId
	}
	return ""
}

// retryableCodes are the answers that say "try again later" and leave
// nothing applied; only reads are retried on them.
var retryableCodes = map[string]bool{
	"RequestLimitExceeded":        true,
	"InternalError":               true,
	"OperationDenied.ServiceBusy": true,
}
