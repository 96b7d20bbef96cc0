package jobs

import (
	"context"
	"fmt"

	"resellerportal/audit"
	"resellerportal/store"
)

// Gate decides whether writes may go to the partner API now. It runs in
// the transaction that would store their job, so nothing submits writes
// around it: every path (a page, a replayed form, a bulk job, the command
// line) goes through SubmitWrites. It returns the id of the request it
// stored for a second person's approval when the writes must wait (the
// job is then not stored), 0 when they may go, or an error that refuses
// them (for instance an approval that is not valid for these writes).
type Gate interface {
	Admit(ctx context.Context, tx *store.Tx, actor audit.Actor, title string, params WriteParams, intents []WriteIntent) (request int64, err error)
}

// UseGate puts a gate in front of every writes job submitted from now on.
// It is set once while the application is wired, before any request.
func (s *Service) UseGate(g Gate) { s.gate = g }

// HeldError is the answer to writes that wait for a second person's
// approval: nothing was sent, and request is the approval request.
type HeldError struct {
	Request int64
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("the writes wait for a second person's approval (request %d)", e.Request)
}
