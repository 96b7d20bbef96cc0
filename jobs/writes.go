package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"resellerportal/partnerapi"
	"resellerportal/store"
)

// WriteIntent is one write a writes.apply job makes.
type WriteIntent struct {
	Action      string // AllocateCustomerCredit, ForceQN or ModifyClientRemark
	ClientUin   uint64
	AddedCredit string `json:",omitempty"` // AllocateCustomerCredit: decimal amount, negative takes back
	Remark      string `json:",omitempty"` // AllocateCustomerCredit and ModifyClientRemark
	Type        *int64 `json:",omitempty"` // ForceQN: 2 suspends, 0 restores
}

// Check refuses an intent the job could not carry out.
func (w WriteIntent) Check() error {
	if w.ClientUin == 0 {
		return errors.New("a customer UIN is needed")
	}
	switch w.Action {
	case partnerapi.ActionAllocateCustomerCredit:
		if _, err := partnerapi.NewAmount(w.AddedCredit); err != nil {
			return fmt.Errorf("credit amount: %w", err)
		}
	case partnerapi.ActionForceQN:
		if w.Type == nil || (*w.Type != 0 && *w.Type != 2) {
			return errors.New("ForceQN needs Type 0 (restore) or 2 (suspend)")
		}
	case partnerapi.ActionModifyClientRemark:
	default:
		return fmt.Errorf("%q cannot be applied by a job", w.Action)
	}
	return nil
}

// PlanWrites checks the intents and returns one item per write.
func PlanWrites(intents []WriteIntent) ([]Item, error) {
	items := make([]Item, 0, len(intents))
	for i, w := range intents {
		if err := w.Check(); err != nil {
			return nil, fmt.Errorf("write %d: %w", i+1, err)
		}
		payload, err := json.Marshal(w)
		if err != nil {
			return nil, err
		}
		items = append(items, Item{Key: strconv.FormatUint(w.ClientUin, 10), Payload: payload})
	}
	return items, nil
}

// ApplyWrites applies a list of writes, one at a time, in order.
type ApplyWrites struct {
	DB  *store.DB
	Now func() time.Time
}

// Name is the stored kind name.
func (ApplyWrites) Name() string { return KindWrites }

// Writes is true: items change state at Tencent Cloud.
func (ApplyWrites) Writes() bool { return true }

// Concurrency is one: writes go in the order they were given.
func (ApplyWrites) Concurrency() int { return 1 }

// marker tags a credit allocation's remark with its job and item, so that
// reading the allocation history back can tell whether it was applied.
func marker(job int64, seq int) string { return fmt.Sprintf("[portal job %d/%d]", job, seq) }

func intentOf(it store.JobItem) (WriteIntent, error) {
	var w WriteIntent
	if err := json.Unmarshal(it.Payload, &w); err != nil {
		return w, fmt.Errorf("write item %d: %w", it.Seq, err)
	}
	return w, w.Check()
}

// Do sends the write.
func (a ApplyWrites) Do(ctx context.Context, c *partnerapi.Client, j store.Job, it store.JobItem) (Result, error) {
	w, err := intentOf(it)
	if err != nil {
		return Result{}, err
	}
	var res Result
	switch w.Action {
	case partnerapi.ActionAllocateCustomerCredit:
		amount, _ := partnerapi.NewAmount(w.AddedCredit)
		remark := strings.TrimSpace(w.Remark + " " + marker(j.ID, it.Seq))
		r, err := c.AllocateCustomerCredit(ctx, &partnerapi.AllocateCustomerCreditRequest{ClientUin: w.ClientUin, AddedCredit: amount, Remark: remark})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
		res.Summary, _ = json.Marshal(map[string]string{"TotalCredit": r.TotalCredit.String(), "RemainingCredit": r.RemainingCredit.String()})
	case partnerapi.ActionForceQN:
		r, err := c.ForceQN(ctx, &partnerapi.ForceQNRequest{ClientUin: w.ClientUin, Type: uint64(*w.Type)})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
	case partnerapi.ActionModifyClientRemark:
		r, err := c.ModifyClientRemark(ctx, &partnerapi.ModifyClientRemarkRequest{ClientUin: strconv.FormatUint(w.ClientUin, 10), Remark: w.Remark})
		if err != nil {
			return Result{}, err
		}
		res.RequestID = r.RequestId
	}
	// The cached customer is stale now; dropping it commits with the
	// write's outcome.
	key := strconv.FormatUint(w.ClientUin, 10)
	res.Save = func(ctx context.Context, tx *store.Tx) error { return tx.CacheInvalidate(ctx, CacheCustomer, key) }
	return res, nil
}

// Reconcile reads back whether an unknown write took effect: a credit
// allocation by its marker in the allocation history, a suspension or a
// remark by the customer's current state.
func (a ApplyWrites) Reconcile(ctx context.Context, c *partnerapi.Client, j store.Job, it store.JobItem) (Reconciled, error) {
	w, err := intentOf(it)
	if err != nil {
		return StillUnknown, err
	}
	// Whatever the answer, the cached customer may be stale now.
	defer a.DB.CacheInvalidate(context.WithoutCancel(ctx), CacheCustomer, strconv.FormatUint(w.ClientUin, 10))
	switch w.Action {
	case partnerapi.ActionAllocateCustomerCredit:
		tag := marker(j.ID, it.Seq)
		for h, err := range c.AllQueryCreditAllocationHistory(ctx, partnerapi.QueryCreditAllocationHistoryRequest{ClientUin: w.ClientUin}) {
			if err != nil {
				return StillUnknown, fmt.Errorf("read allocation history of %d: %w", w.ClientUin, err)
			}
			if strings.Contains(h.Remark, tag) {
				return Applied, nil
			}
		}
		return NotApplied, nil
	default:
		resp, err := c.QueryCustomersCredit(ctx, &partnerapi.QueryCustomersCreditRequest{
			FilterType: "ClientUin", Filter: strconv.FormatUint(w.ClientUin, 10), Page: 1, PageSize: 10,
		})
		if err != nil {
			return StillUnknown, fmt.Errorf("read customer %d: %w", w.ClientUin, err)
		}
		for _, cu := range resp.Data {
			if cu.ClientUin != w.ClientUin {
				continue
			}
			applied := (w.Action == partnerapi.ActionForceQN && cu.Force == *w.Type) ||
				(w.Action == partnerapi.ActionModifyClientRemark && cu.Remark == w.Remark)
			if applied {
				return Applied, nil
			}
			return NotApplied, nil
		}
		return StillUnknown, fmt.Errorf("customer %d not found while reconciling", w.ClientUin)
	}
}

func clockNow(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}
