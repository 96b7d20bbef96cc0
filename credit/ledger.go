package credit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/export"
	"resellerportal/store"
)

// LedgerPageSize is how many allocations a page of the ledger shows.
const LedgerPageSize = 50

// maxLedgerPage bounds the page a person may ask for.
const maxLedgerPage = 10000

// LedgerFilter is the ledger's filter form as typed: dates are whole UTC
// days, inclusive.
type LedgerFilter struct {
	From, To string
	Uin      string
	Actor    string
	Target   string // "", "customer" or "pool"
	State    string // "", or one of the Allocation states
	Page     string
}

// LedgerQuery is a checked ledger filter.
type LedgerQuery struct {
	Form  LedgerFilter
	query store.LedgerQuery
	page  int
}

// PageNumber is the page asked for, from 1.
func (q LedgerQuery) PageNumber() int { return q.page }

// ledgerStates maps a state people filter by to the item status.
var ledgerStates = map[string]string{
	AllocationOK: store.ItemOK, AllocationFailed: store.ItemFailed, AllocationUnknown: store.ItemUnknown,
	AllocationChecking: store.ItemSent, AllocationHeld: "held",
}

// ParseLedger checks the ledger's filter. A reseller's login is held to the
// allocations its logins made or that were made with its key.
func (s *Service) ParseLedger(actor audit.Actor, f LedgerFilter) (LedgerQuery, error) {
	if !actor.Can(auth.ViewCredit) {
		return LedgerQuery{}, ErrForbidden
	}
	q := LedgerQuery{Form: f, page: 1}
	var errs []error
	day := func(field, v string) time.Time {
		if v = strings.TrimSpace(v); v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			errs = append(errs, apperr.InvalidField(field, "credit.err_date"))
		}
		return t
	}
	q.query.From = day("from", f.From)
	if to := day("to", f.To); !to.IsZero() {
		q.query.To = to.Add(24 * time.Hour)
	}
	if v := strings.TrimSpace(f.Uin); v != "" {
		uin, err := strconv.ParseUint(v, 10, 64)
		if err != nil || uin == 0 || len(v) > 20 {
			errs = append(errs, apperr.InvalidField("uin", "credit.err_uin"))
		}
		q.query.Uin = uin
	}
	if v := strings.TrimSpace(f.Actor); v != "" {
		if len(v) > 64 {
			errs = append(errs, apperr.InvalidField("actor", "credit.err_actor"))
		}
		q.query.Actor = v
	}
	switch f.Target {
	case "", store.AllocationToCustomer, store.AllocationToPool:
		q.query.Target = f.Target
	default:
		errs = append(errs, apperr.InvalidField("target", "credit.err_target"))
	}
	if f.State != "" {
		st, ok := ledgerStates[f.State]
		if !ok {
			errs = append(errs, apperr.InvalidField("state", "credit.err_state"))
		}
		q.query.Status = st
	}
	if f.Page != "" {
		n, err := strconv.Atoi(f.Page)
		if err != nil || n < 1 || n > maxLedgerPage {
			errs = append(errs, apperr.InvalidField("page", "credit.err_page"))
		} else {
			q.page = n
		}
	}
	if len(errs) > 0 {
		return LedgerQuery{}, errors.Join(errs...)
	}
	if r := actor.OnBehalfOf(); r != 0 {
		q.query.Reseller = &r
	}
	q.query.Limit, q.query.Offset = LedgerPageSize, (q.page-1)*LedgerPageSize
	return q, nil
}

// LedgerPage is a page of the ledger.
type LedgerPage struct {
	Rows  []Allocation
	Total int
	Pages int
}

// Ledger reads a page of the allocations made through the portal, newest
// first.
func (s *Service) Ledger(ctx context.Context, actor audit.Actor, q LedgerQuery) (LedgerPage, error) {
	if !actor.Can(auth.ViewCredit) {
		return LedgerPage{}, ErrForbidden
	}
	if q.page == 0 {
		return LedgerPage{}, fmt.Errorf("ledger: filter not parsed")
	}
	rows, total, err := s.ledger.CreditLedger(ctx, q.query)
	if err != nil {
		return LedgerPage{}, err
	}
	p := LedgerPage{Total: total, Pages: max(1, (total+LedgerPageSize-1)/LedgerPageSize)}
	for _, a := range rows {
		// A row's job has ended when its item is no longer on its way.
		p.Rows = append(p.Rows, allocationOf(a, a.Status != store.ItemPending && a.Status != store.ItemSent))
	}
	return p, nil
}

// ledgerColumns are the ledger file's columns; their headers are a
// contract with the spreadsheets finance builds on the file.
var ledgerColumns = []export.Column{
	{Header: "id", Kind: export.Number}, {Header: "created_at_utc", Kind: export.Text}, {Header: "actor", Kind: export.Text},
	{Header: "actor_role", Kind: export.Text}, {Header: "on_behalf_of", Kind: export.Text}, {Header: "target", Kind: export.Text},
	{Header: "uin", Kind: export.Text}, {Header: "amount", Kind: export.Money}, {Header: "remark", Kind: export.Text},
	{Header: "credit_before", Kind: export.Money}, {Header: "remaining_before", Kind: export.Money},
	{Header: "credit_after", Kind: export.Money}, {Header: "remaining_after", Kind: export.Money}, {Header: "state", Kind: export.Text},
	{Header: "error_code", Kind: export.Text}, {Header: "request_id", Kind: export.Text}, {Header: "job", Kind: export.Text},
	{Header: "approval_request", Kind: export.Text}, {Header: "key", Kind: export.Text},
}

// Formats of the ledger's file.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// ExportLedger writes every allocation the filter selects (not just a
// page) as CSV or XLSX, and records the export in the audit log; it
// returns how many rows it wrote.
func (s *Service) ExportLedger(ctx context.Context, actor audit.Actor, q LedgerQuery, format string, w io.Writer) (int, error) {
	// Whoever may read the ledger may take it away: the file holds
	// nothing its pages do not show.
	if !actor.Can(auth.ViewCredit) {
		return 0, ErrForbidden
	}
	if q.page == 0 {
		return 0, fmt.Errorf("export ledger: filter not parsed")
	}
	all := q.query
	all.Limit, all.Offset = -1, 0
	t := export.Table{Name: "Credit ledger", Columns: ledgerColumns}
	err := s.ledger.EachCreditAllocation(ctx, all, func(a store.CreditAllocation) error {
		al := allocationOf(a, a.Status != store.ItemPending && a.Status != store.ItemSent)
		t.Rows = append(t.Rows, []string{strconv.FormatInt(a.ID, 10), a.CreatedAt.UTC().Format(time.RFC3339), a.Actor, a.ActorRole,
			uinText(a.OnBehalfOf), a.Target, strconv.FormatUint(a.Uin, 10), a.Amount, a.Remark, a.CreditBefore, a.RemainingBefore,
			al.CreditAfter, al.RemainingAfter, al.State, a.Code, a.RequestId, idText(a.JobID), idText(a.Approval), a.Key})
		return nil
	})
	if err == nil {
		if format == FormatXLSX {
			err = export.WriteXLSX(w, t)
		} else {
			err = export.WriteCSV(w, t)
		}
	}
	// The filter as checked, not as typed: bounded and canonical.
	params := map[string]string{"rows": strconv.Itoa(len(t.Rows)), "format": format, "from": dayText(q.query.From),
		"to": dayText(q.query.To.Add(-24 * time.Hour)), "uin": uinText(q.query.Uin), "actor": q.query.Actor,
		"target": q.query.Target, "state": q.Form.State}
	if q.query.To.IsZero() {
		delete(params, "to")
	}
	for k, v := range params {
		if v == "" {
			delete(params, k)
		}
	}
	entry := actor.Entry("credit.ledger.export", 0, params)
	if err != nil {
		entry.Outcome = store.OutcomeFailed
	}
	if _, aerr := s.ledger.AppendAudit(ctx, entry); aerr != nil {
		return len(t.Rows), fmt.Errorf("export ledger: %w", aerr)
	}
	if err != nil {
		return len(t.Rows), fmt.Errorf("export ledger: %w", err)
	}
	return len(t.Rows), nil
}

func dayText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func uinText(u uint64) string {
	if u == 0 {
		return ""
	}
	return strconv.FormatUint(u, 10)
}

func idText(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
