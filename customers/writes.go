package customers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Write is a change a person asked for on a customer, as it stands: its
// job and its one item, with the outcome once known.
type Write struct {
	jobs.Outcome
	Item   store.JobItem
	Intent jobs.WriteIntent
}

// The states of a Write, as pages name them.
const (
	WriteOK       = "ok"       // it took effect
	WriteFailed   = "failed"   // Tencent Cloud refused it, or it was found not applied
	WriteUnknown  = "unknown"  // its outcome could not be read back; a person must check
	WriteChecking = "checking" // still being sent or read back
)

// State says where the write stands.
func (w Write) State() string {
	switch w.Item.Status {
	case store.ItemOK:
		return WriteOK
	case store.ItemFailed, store.ItemSkipped:
		return WriteFailed
	case store.ItemUnknown:
		if w.Ended {
			return WriteUnknown
		}
	}
	return WriteChecking
}

// Suspending reports whether the write suspends (true) or restores
// services; it is meaningful for a ForceQN write only.
func (w Write) Suspending() bool { return w.Intent.Type != nil && *w.Intent.Type == 2 }

// SetRemark changes a customer's remark (ModifyClientRemark). The remark
// is trimmed; it may be empty (to clear it), at most jobs.MaxRemark
// characters, without control characters.
func (s *Service) SetRemark(ctx context.Context, actor audit.Actor, uin uint64, remark string) (Write, error) {
	if !mayWrite(actor) {
		return Write{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	remark = strings.TrimSpace(remark)
	if !utf8.ValidString(remark) || utf8.RuneCountInString(remark) > jobs.MaxRemark || strings.ContainsFunc(remark, isControl) {
		return Write{}, apperr.InvalidField("remark", msgBadRemark).With(map[string]any{"Max": jobs.MaxRemark})
	}
	row, err := s.customer(ctx, actor, uin)
	if err != nil {
		return Write{}, err
	}
	if remark == row.Remark {
		return Write{}, apperr.InvalidField("remark", msgNoChange)
	}
	return s.write(ctx, actor, row, "Change the remark of customer "+strconv.FormatUint(uin, 10),
		jobs.WriteIntent{Action: partnerapi.ActionModifyClientRemark, ClientUin: uin, Remark: remark})
}

// The codes of a suspension that cannot be asked for.
const (
	msgAlreadySuspended = "customers.already_suspended"
	msgNotSuspended     = "customers.not_suspended"
)

// SetSuspended suspends (ForceQN Type 2) or restores (Type 0) a customer's
// services. Restoring undoes only the partner's own suspension: a customer
// suspended for arrears or a credit of 0 stays suspended until its credit
// allows again.
func (s *Service) SetSuspended(ctx context.Context, actor audit.Actor, uin uint64, suspend bool) (Write, error) {
	if !mayWrite(actor) {
		return Write{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	row, err := s.customer(ctx, actor, uin)
	if err != nil {
		return Write{}, err
	}
	var typ int64
	title := "Restore the services of customer "
	switch {
	case suspend && row.Force == 2:
		return Write{}, apperr.New(apperr.Conflict, "", msgAlreadySuspended)
	case !suspend && row.Force != 2:
		return Write{}, apperr.New(apperr.Conflict, "", msgNotSuspended)
	case suspend:
		typ, title = 2, "Suspend the services of customer "
	}
	return s.write(ctx, actor, row, title+strconv.FormatUint(uin, 10),
		jobs.WriteIntent{Action: partnerapi.ActionForceQN, ClientUin: uin, Type: &typ})
}

// write submits one write on a customer as an interactive job, with the
// key that may make it, and waits a while for its outcome.
func (s *Service) write(ctx context.Context, actor audit.Actor, row store.Customer, title string, intent jobs.WriteIntent) (Write, error) {
	if actor.UserID == 0 {
		return Write{}, apperr.New(apperr.Forbidden, "", msgNeedsUser)
	}
	// Checked before anything is recorded: a reseller's customer needs
	// that reseller's own key.
	if _, err := s.clientFor(ctx, row); err != nil {
		return Write{}, err
	}
	job, err := s.writes.SubmitWrites(ctx, actor, title, jobs.WriteParams{AsReseller: row.ResellerUin, Interactive: true}, []jobs.WriteIntent{intent})
	if err != nil {
		return Write{}, fmt.Errorf("%s: %w", strings.ToLower(title[:1])+title[1:], err)
	}
	out, err := s.writes.Await(ctx, job.ID, s.writeWait)
	if err != nil {
		return Write{}, err
	}
	w, err := writeOf(out)
	if err == nil && w.State() == WriteOK {
		s.forget(row.Uin)
	}
	return w, err
}

func writeOf(out jobs.Outcome) (Write, error) {
	if len(out.Items) != 1 {
		return Write{}, fmt.Errorf("job %d: %d items, want one write", out.Job.ID, len(out.Items))
	}
	intent, err := jobs.IntentOf(out.Items[0])
	if err != nil {
		return Write{}, err
	}
	return Write{Outcome: out, Item: out.Items[0], Intent: intent}, nil
}

// errNoSuchWrite is the answer for a write that is not this customer's or
// not the viewer's.
func errNoSuchWrite(uin uint64, id int64) error {
	return apperr.New(apperr.NotFound, "", "customers.no_such_write").Because(fmt.Errorf("write %d of customer %d", id, uin))
}

// WriteStatus returns a write on the customer as it stands now.
func (s *Service) WriteStatus(ctx context.Context, actor audit.Actor, uin uint64, id int64) (Write, error) {
	if _, err := s.customer(ctx, actor, uin); err != nil {
		return Write{}, err
	}
	out, err := s.writes.Writes(ctx, actor, id)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.NotFound {
			return Write{}, errNoSuchWrite(uin, id)
		}
		return Write{}, err
	}
	w, err := writeOf(out)
	if err != nil || w.Intent.ClientUin != uin {
		return Write{}, errors.Join(err, errNoSuchWrite(uin, id))
	}
	return w, nil
}

// CheckWrite reads back, now, a write on the customer whose outcome is
// unknown, and returns it as it then stands.
func (s *Service) CheckWrite(ctx context.Context, actor audit.Actor, uin uint64, id int64) (Write, error) {
	if !mayWrite(actor) {
		return Write{}, apperr.New(apperr.Forbidden, "", msgForbidden)
	}
	if _, err := s.WriteStatus(ctx, actor, uin, id); err != nil {
		return Write{}, err
	}
	out, err := s.writes.CheckAgain(ctx, actor, id)
	if err != nil && len(out.Items) == 0 {
		return Write{}, err
	}
	w, werr := writeOf(out)
	if werr != nil {
		return Write{}, werr
	}
	if w.State() == WriteOK {
		// Found applied by reading back: the row learns it from the API.
		s.forget(uin)
		if c, cerr := s.clients.Distributor(ctx); cerr == nil {
			_, _ = jobs.RefreshCustomer(ctx, c, s.db, uin)
		}
	}
	return w, err
}

// Refresh reads one customer again from the partner API (just that
// customer) and forgets its cached details, so its page shows the truth.
func (s *Service) Refresh(ctx context.Context, actor audit.Actor, uin uint64) (store.Customer, error) {
	if _, err := s.customer(ctx, actor, uin); err != nil {
		return store.Customer{}, err
	}
	c, err := s.clients.Distributor(ctx)
	if err != nil {
		return store.Customer{}, err
	}
	row, err := jobs.RefreshCustomer(ctx, c, s.db, uin)
	s.forget(uin)
	if errors.Is(err, store.ErrNotFound) {
		return store.Customer{}, errNotFound(uin, err)
	}
	return row, err
}
