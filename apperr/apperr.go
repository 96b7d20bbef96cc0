// Package apperr holds the typed errors the portal's services return. A
// service says what went wrong as a kind, the form field at fault and a
// message id of the catalogue; the web and the command line each turn that
// into their own words, so the two cannot tell people different things.
package apperr

import (
	"errors"
	"fmt"
)

// Kind is what sort of failure an Error is; the web maps each to one status.
type Kind int

// The kinds of failure a service reports.
const (
	// Invalid: the input breaks a rule (a bad user name, a date in the past).
	Invalid Kind = iota + 1
	// Conflict: the current state forbids it (a taken name, a job that has
	// already finished).
	Conflict
	// NotFound: the thing asked for does not exist, or is not the caller's.
	NotFound
	// Forbidden: the caller may not do this.
	Forbidden
	// Throttled: too many attempts; try again later.
	Throttled
	// Busy: the portal is saturated right now; try again shortly.
	Busy
	// Unavailable: the feature cannot be used by this partner (for example an
	// action Tencent Cloud has not allowlisted).
	Unavailable
)

var kindNames = map[Kind]string{
	Invalid: "invalid", Conflict: "conflict", NotFound: "not found", Forbidden: "forbidden",
	Throttled: "throttled", Busy: "busy", Unavailable: "unavailable",
}

// String names the kind for logs.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a failure a person can be told about.
type Error struct {
	Kind Kind
	// Field is the form field at fault ("username"), or "" for the request
	// as a whole.
	Field string
	// MessageID is the catalogue id of the sentence to show.
	MessageID string
	// Data fills the message's placeholders.
	Data map[string]any
	// Err is the cause, for logs; nil when the rule itself is the reason.
	Err error
}

// Error describes the failure for logs; people see MessageID translated.
func (e *Error) Error() string {
	s := e.Kind.String() + ": " + e.MessageID
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is matches another *Error of the same kind, field and message, so that
// copies made by With and Because still match the variable they came from.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Field == e.Field && t.MessageID == e.MessageID
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of a kind about a field (or "") with a message id.
func New(kind Kind, field, messageID string) *Error {
	return &Error{Kind: kind, Field: field, MessageID: messageID}
}

// With returns a copy of e carrying data for the message's placeholders.
func (e *Error) With(data map[string]any) *Error {
	c := *e
	c.Data = data
	return &c
}

// Because returns a copy of e with a cause, for logs.
func (e *Error) Because(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// InvalidField is an Invalid error about one form field.
func InvalidField(field, messageID string) *Error { return New(Invalid, field, messageID) }

// As returns the first *Error in err's tree.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// KindOf returns the kind of the first *Error in err's tree, or 0.
func KindOf(err error) Kind {
	if e, ok := As(err); ok {
		return e.Kind
	}
	return 0
}

// Fields collects the field errors in err's tree (errors.Join of several is
// how a service reports every bad field of a form at once), the first one
// per field.
func Fields(err error) map[string]*Error {
	out := map[string]*Error{}
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *Error:
			if _, seen := out[x.Field]; !seen {
				out[x.Field] = x
			}
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}
