// Package sandbox is a local server of the intlpartnersmgt partner API: the
// same wire format, signature checks, validation, rate limits and roles as
// the real service, over a consistent world generated from a seed, so that
// the portal, its tests and any Tencent Cloud SDK can use it unchanged.
package sandbox

import (
	"encoding/json"
	"fmt"

	"resellerportal/partnerapi"
)

// Caller is the authenticated identity behind a request: whose credential
// signed it and what kind of partner or customer that is.
type Caller struct {
	Role     partnerapi.Role
	Uin      uint64
	SecretId string
	BaseURL  string // scheme://host the request arrived at, for links back to the sandbox
}

// apiError is an answer in the API's error form: a documented code and a
// message.
type apiError struct {
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// errorf builds an apiError with a formatted message.
func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// actionFunc serves one action: it receives the validated, normalised JSON
// body and returns the response object (without RequestId) or an *apiError.
type actionFunc func(w *World, c Caller, body json.RawMessage) (any, error)

// handle adapts a typed action handler to an actionFunc.
func handle[Req, Resp any](fn func(w *World, c Caller, req *Req) (*Resp, error)) actionFunc {
	return func(w *World, c Caller, body json.RawMessage) (any, error) {
		var req Req
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, errorf("InvalidParameter", "the request body does not match the action's parameters: %v", err)
		}
		return fn(w, c, &req)
	}
}
