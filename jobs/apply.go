package jobs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/store"
)

// Outcome is a writes job as the person who asked for it sees it after
// waiting: the job and its items, each with its outcome.
type Outcome struct {
	Job   store.Job
	Items []store.JobItem
	// Ended: the job has finished; when false the wait ran out first and
	// the writes go on in the background.
	Ended bool
}

// Unknown counts the items whose outcome is not known (yet).
func (a Outcome) Unknown() int {
	n := 0
	for _, it := range a.Items {
		if it.Status == store.ItemUnknown || it.Status == store.ItemSent || it.Status == store.ItemPending {
			n++
		}
	}
	return n
}

// SubmitWrites stores a writes job of the intents in the actor's name. The
// domain service calling it has checked that the actor may make each write;
// this checks that a person owns the job and that the intents are whole,
// and keeps the rules no caller may go around, in the transaction that
// stores the job: a credit allocation's idempotency key is used once
// (KeyUsedError), one allocation per customer or pool is in flight at a
// time (BusyError), and the gate may hold the writes for a second
// person's approval (HeldError). Each allocation goes into the ledger
// (store.CreditAllocation) tied to its item.
func (s *Service) SubmitWrites(ctx context.Context, actor audit.Actor, title string, params WriteParams, intents []WriteIntent) (store.Job, error) {
	if actor.UserID == 0 {
		return store.Job{}, apperr.New(apperr.Forbidden, "", msgNeedsUser)
	}
	if len(intents) == 0 {
		return store.Job{}, errors.New("submit writes: nothing to write")
	}
	intents = slices.Clone(intents)
	for i := range intents {
		if _, ok := intents[i].Allocates(); ok && intents[i].Key == "" {
			intents[i].Key = "job-" + rand.Text()
		}
	}
	items, err := PlanWrites(intents)
	if err != nil {
		return store.Job{}, fmt.Errorf("submit writes: %w", err)
	}
	owner, err := s.db.UserByID(ctx, actor.UserID)
	if err != nil {
		return store.Job{}, fmt.Errorf("submit writes: %w", err)
	}
	var heldIn int64
	first := func(tx *store.Tx) (bool, error) {
		if err := creditRules(ctx, tx, params, intents); err != nil {
			return false, err
		}
		if s.gate != nil {
			var err error
			if heldIn, err = s.gate.Admit(ctx, tx, actor, title, params, intents); err != nil {
				return false, err
			}
		}
		return heldIn != 0, recordAllocations(ctx, tx, owner, params, heldIn, intents)
	}
	then := func(tx *store.Tx, job store.Job) error {
		for seq, w := range intents {
			if _, ok := w.Allocates(); ok {
				if err := tx.LinkCreditAllocation(ctx, w.Key, job.ID, seq); err != nil {
					return err
				}
			}
		}
		return nil
	}
	job, err := s.engine.SubmitWith(ctx, KindWrites, owner, title, params, items, first, then)
	if err != nil {
		return store.Job{}, err
	}
	if heldIn != 0 {
		return store.Job{}, &HeldError{Request: heldIn}
	}
	return job, nil
}

// KeyUsedError refuses an allocation whose idempotency key was used
// before: Allocation is what the key was used for.
type KeyUsedError struct {
	Allocation store.CreditAllocation
}

func (e *KeyUsedError) Error() string {
	return fmt.Sprintf("the allocation key %s was used before (allocation %d)", e.Allocation.Key, e.Allocation.ID)
}

// BusyError refuses an allocation to a customer or pool that has one in
// flight or of unknown outcome: until that one is known, reading the
// history back could not tell the two apart.
type BusyError struct {
	Allocation store.CreditAllocation
}

func (e *BusyError) Error() string {
	a := e.Allocation
	return fmt.Sprintf("allocation %d to %s %d is still %s (job %d)", a.ID, a.Target, a.Uin, a.Status, a.JobID)
}

// creditRules refuses allocations whose key was used, other than by the
// approval now letting them go, and allocations to a target with one in
// flight.
func creditRules(ctx context.Context, tx *store.Tx, params WriteParams, intents []WriteIntent) error {
	for _, w := range intents {
		target, ok := w.Allocates()
		if !ok {
			continue
		}
		prior, err := tx.CreditAllocationByKey(ctx, w.Key)
		switch {
		case err == nil && (params.Approval == 0 || prior.Approval != params.Approval || prior.JobID != 0):
			return &KeyUsedError{Allocation: prior}
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		busy, err := tx.AllocationInFlight(ctx, target, w.ClientUin)
		switch {
		case err == nil:
			return &BusyError{Allocation: busy}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	return nil
}

// recordAllocations adds the allocations to the ledger, held by the
// approval request when there is one; those an approval lets go are there
// already.
func recordAllocations(ctx context.Context, tx *store.Tx, owner store.User, params WriteParams, heldIn int64, intents []WriteIntent) error {
	if params.Approval != 0 {
		return nil
	}
	for _, w := range intents {
		target, ok := w.Allocates()
		if !ok {
			continue
		}
		_, err := tx.AddCreditAllocation(ctx, store.CreditAllocation{Key: w.Key, Target: target, Uin: w.ClientUin,
			Amount: w.AddedCredit, Remark: w.Remark, UserID: owner.ID, Actor: owner.Username, ActorRole: owner.Role,
			OnBehalfOf: subagentOf(owner), AsReseller: params.AsReseller, CreditBefore: w.CreditBefore,
			RemainingBefore: w.RemainingBefore, Approval: heldIn})
		if err != nil {
			return err
		}
	}
	return nil
}

// Await waits up to wait (or until ctx ends) for a job to end, and returns
// it with its items. It polls nothing: it wakes on the engine's changes.
func (s *Service) Await(ctx context.Context, id int64, wait time.Duration) (Outcome, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		changed := s.engine.Changed()
		j, err := s.db.JobByID(ctx, id)
		if err != nil {
			return Outcome{}, fmt.Errorf("job %d: %w", id, err)
		}
		ended := j.Status == store.JobDone || j.Status == store.JobFailed || j.Status == store.JobCancelled
		if ended {
			return s.applied(ctx, j, true)
		}
		select {
		case <-changed:
		case <-timer.C:
			return s.applied(ctx, j, false)
		case <-ctx.Done():
			return s.applied(context.WithoutCancel(ctx), j, false)
		}
	}
}

func (s *Service) applied(ctx context.Context, j store.Job, ended bool) (Outcome, error) {
	items, err := s.db.JobItems(ctx, j.ID, nil, 0)
	if err != nil {
		return Outcome{}, fmt.Errorf("job %d: %w", j.ID, err)
	}
	return Outcome{Job: j, Items: items, Ended: ended}, nil
}

// Writes returns a writes job the actor may see, with its items.
func (s *Service) Writes(ctx context.Context, actor audit.Actor, id int64) (Outcome, error) {
	j, err := s.db.JobByID(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Outcome{}, notFound(id, err)
	case err != nil:
		return Outcome{}, fmt.Errorf("job %d: %w", id, err)
	case j.Kind != KindWrites || !seesWrites(actor, j):
		return Outcome{}, notFound(id, errors.New("someone else's"))
	}
	ended := j.Status == store.JobDone || j.Status == store.JobFailed || j.Status == store.JobCancelled
	return s.applied(ctx, j, ended)
}

// seesWrites: people see the writes they asked for; holders of
// ManageAllJobs everyone's.
func seesWrites(actor audit.Actor, j store.Job) bool {
	return sees(actor, j) || (actor.UserID != 0 && j.OwnerID == actor.UserID)
}

// CheckAgain reads back, now and at a person's priority, the outcomes an
// ended writes job left unknown; it returns the job as it then stands.
func (s *Service) CheckAgain(ctx context.Context, actor audit.Actor, id int64) (Outcome, error) {
	a, err := s.Writes(ctx, actor, id)
	if err != nil {
		return Outcome{}, err
	}
	if !a.Ended {
		return a, nil // its own run reads back what it leaves unknown
	}
	if a.Unknown() == 0 {
		return a, nil
	}
	err = s.db.WriteDetached(ctx, func(tx *store.Tx) error {
		_, err := tx.AppendAudit(ctx, actor.Entry("job.check", 0, map[string]string{"job": strconv.FormatInt(id, 10)}))
		return err
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("check job %d: %w", id, err)
	}
	if err := s.engine.ReconcileNow(ctx, id); err != nil && ctx.Err() == nil {
		// What stays unknown is shown as unknown; the error is for logs.
		a2, err2 := s.Writes(context.WithoutCancel(ctx), actor, id)
		if err2 != nil {
			return Outcome{}, errors.Join(err, err2)
		}
		return a2, fmt.Errorf("check job %d: %w", id, err)
	}
	return s.Writes(context.WithoutCancel(ctx), actor, id)
}
