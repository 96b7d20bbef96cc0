package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"resellerportal/apperr"
	"resellerportal/auth"
	"resellerportal/store"
)

// Log is finance's view of the audit log: pages of it and exports.
type Log struct {
	db *store.DB
}

// NewLog returns the audit log's reader.
func NewLog(db *store.DB) *Log { return &Log{db: db} }

// Filter is the audit page's filter form as typed: dates are whole UTC
// days, YYYY-MM-DD.
type Filter struct {
	From, To string
	Actor    string
	Action   string
	Customer string // a customer UIN
}

// Field limits of the filter form.
const (
	maxFilterText = 128
	// PageSize is how many rows a page of the log shows.
	PageSize = 50
	// CountUpTo is where the page stops counting matching rows.
	CountUpTo = 1000
)

var (
	errBadDate   = apperr.InvalidField("from", "audit.bad_date")
	errBadTo     = apperr.InvalidField("to", "audit.bad_date")
	errBadUin    = apperr.InvalidField("customer", "audit.bad_uin")
	errBadText   = apperr.InvalidField("actor", "audit.bad_text")
	errForbidden = apperr.New(apperr.Forbidden, "", "error.forbidden")
)

// Parse checks a filter form and returns what it selects.
func (f Filter) Parse() (store.AuditFilter, error) {
	sf := store.AuditFilter{Actor: strings.TrimSpace(f.Actor), Action: strings.TrimSpace(f.Action)}
	var errs []error
	if len(sf.Actor) > maxFilterText || len(sf.Action) > maxFilterText {
		errs = append(errs, errBadText)
	}
	day := func(s string, bad error) time.Time {
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			errs = append(errs, bad)
		}
		return t
	}
	sf.From = day(f.From, errBadDate)
	if to := day(f.To, errBadTo); !to.IsZero() {
		sf.To = to.Add(24 * time.Hour)
	}
	if c := strings.TrimSpace(f.Customer); c != "" {
		uin, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			errs = append(errs, errBadUin)
		}
		sf.TargetUin = uin
	}
	return sf, errors.Join(errs...)
}

// Page is one page of the log.
type Page struct {
	Entries []store.AuditEntry
	// Older and Newer are the ids to continue from for the next (older)
	// and previous (newer) pages; 0 when there is none.
	Older, Newer int64
	// Count is how many rows match, up to CountUpTo; Capped says there are
	// more.
	Count  int
	Capped bool
}

// Read returns a page of the rows f selects, continuing from after (0 for
// the newest), towards older rows or, with newer, newer ones.
func (l *Log) Read(ctx context.Context, actor Actor, f store.AuditFilter, after int64, newer bool) (Page, error) {
	if !actor.Can(auth.ViewAudit) {
		return Page{}, errForbidden
	}
	f.After, f.Newer, f.Limit = after, newer, PageSize
	entries, more, err := l.db.QueryAudit(ctx, f)
	if err != nil {
		return Page{}, err
	}
	p := Page{Entries: entries}
	if len(entries) > 0 {
		first, last := entries[0].ID, entries[len(entries)-1].ID
		switch {
		case newer:
			// Read towards newer rows: the older side exists (we came from it).
			p.Older, p.Newer = last, pick(more, first)
		default:
			p.Older, p.Newer = pick(more, last), pick(after != 0, first)
		}
	}
	n, err := l.db.CountAudit(ctx, f, CountUpTo+1)
	if err != nil {
		return Page{}, err
	}
	p.Count, p.Capped = min(n, CountUpTo), n > CountUpTo
	return p, nil
}

// Entry returns one row of the log, for the page that shows everything it
// recorded.
func (l *Log) Entry(ctx context.Context, actor Actor, id int64) (store.AuditEntry, error) {
	if !actor.Can(auth.ViewAudit) {
		return store.AuditEntry{}, errForbidden
	}
	e, err := l.db.AuditEntryByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.AuditEntry{}, apperr.New(apperr.NotFound, "", "error.not_found").Because(err)
	}
	return e, err
}

func pick(ok bool, id int64) int64 {
	if ok {
		return id
	}
	return 0
}

// Export writes every row f selects as CSV (times in UTC) and records the
// export, with its filters, in the log itself.
func (l *Log) Export(ctx context.Context, actor Actor, f store.AuditFilter, w io.Writer) (int, error) {
	if !actor.Can(auth.Export) {
		return 0, errForbidden
	}
	n, err := l.db.ExportAuditCSV(ctx, w, f)
	params := FilterParams(f)
	params["rows"] = strconv.Itoa(n)
	e := actor.Entry("audit.export", f.TargetUin, params)
	if err != nil {
		e.Outcome, e.Code = store.OutcomeFailed, "write"
	}
	if _, aerr := l.db.AppendAudit(ctx, e); aerr != nil {
		return n, errors.Join(err, aerr)
	}
	if err != nil {
		return n, fmt.Errorf("export the audit log: %w", err)
	}
	return n, nil
}

// FilterParams describes a filter for an audit row: the dates as given
// (whole UTC days) and the other fields that are set.
func FilterParams(f store.AuditFilter) map[string]string {
	p := map[string]string{}
	if !f.From.IsZero() {
		p["from"] = f.From.UTC().Format(time.DateOnly)
	}
	if !f.To.IsZero() {
		p["to"] = f.To.Add(-24 * time.Hour).UTC().Format(time.DateOnly)
	}
	if f.Actor != "" {
		p["actor"] = UntrustedName(f.Actor)
	}
	if f.Action != "" {
		p["action"] = UntrustedName(f.Action)
	}
	if f.TargetUin != 0 {
		p["customer"] = strconv.FormatUint(f.TargetUin, 10)
	}
	return p
}
