package credit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"resellerportal/apicache"
	"resellerportal/apperr"
	"resellerportal/audit"
	"resellerportal/auth"
	"resellerportal/export"
	"resellerportal/jobs"
	"resellerportal/partnerapi"
	"resellerportal/store"
)

// Batches keeps bulk allocations between their preview and their job, and
// reads the customers table their lines are checked against.
type Batches interface {
	WriteDetached(ctx context.Context, fn func(tx *store.Tx) error) error
	CreditBatchByID(ctx context.Context, id int64) (store.CreditBatch, error)
	CreditBatchByKey(ctx context.Context, key string) (store.CreditBatch, error)
	CustomerByUin(ctx context.Context, uin uint64) (store.Customer, error)
	AllocationsInFlight(ctx context.Context, target string, uins []uint64) (map[uint64]store.CreditAllocation, error)
}

// Bounds of a bulk allocation.
const (
	// MaxBulkLines is the most lines one bulk allocation takes: at the
	// documented 5 allocations a second, 17 minutes of writes.
	MaxBulkLines = 5000
	// MaxBulkBytes bounds an uploaded file.
	MaxBulkBytes = 1 << 20
)

// Problems a bulk line may have, as message ids.
const (
	LineBadUin      = "credit.line_bad_uin"
	LineNotCustomer = "credit.line_not_customer"
	LineNotDirect   = "credit.line_not_direct"
	LineBadAmount   = "credit.line_bad_amount"
	LineZero        = "credit.line_zero"
	LineBadRemark   = "credit.line_bad_remark"
	LineDuplicate   = "credit.line_duplicate"
	LineInFlight    = "credit.line_in_flight"
	LineBelowZero   = "credit.line_below_zero"
	LineColumns     = "credit.line_columns"
)

// BulkLine is one line of a bulk allocation, as checked.
type BulkLine struct {
	Line   int // from 1, the file's line (the header not counted)
	Uin    string
	Amount string // canonical when valid, as typed otherwise
	Remark string
	// Name and Remaining are the customer's, from the customers table.
	Name      string `json:",omitempty"`
	Remaining string `json:",omitempty"`
	// Problem is the message id of why the line cannot be sent; "" when it can.
	Problem string `json:",omitempty"`
}

// Batch is a bulk allocation: its lines, their totals, and its job once
// confirmed.
type Batch struct {
	store.CreditBatch
	Lines []BulkLine
	// Added and TakenBack are the valid lines' totals; Problems counts the
	// lines that cannot be sent.
	Added, TakenBack decimal.Decimal
	Problems         int
	// Allocable is what the partner may still allocate as last read;
	// OverAllocable: the lines add more than that.
	Allocable      decimal.Decimal
	AllocableKnown bool
	OverAllocable  bool
	// Outcomes are the lines' allocations once the job has them, by line.
	Outcomes map[int]Allocation
}

// Confirmable reports whether the batch may be sent: every line valid, the
// total within what may be allocated, and not sent already.
func (b Batch) Confirmable() bool {
	return b.Problems == 0 && !b.OverAllocable && b.JobID == 0 && b.Approval == 0 && len(b.Lines) > 0
}

var errBulkForbidden = apperr.New(apperr.Forbidden, "", "credit.forbidden")

// ReadBulkFile reads an uploaded file: CSV (comma or semicolon), UTF-8 with
// or without a byte order mark, columns UIN, amount and an optional remark,
// with or without a header line.
func ReadBulkFile(r io.Reader) ([]BulkLine, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBulkBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBulkBytes {
		return nil, apperr.InvalidField("file", "credit.bulk_too_big").With(map[string]any{"Max": MaxBulkLines})
	}
	text := strings.TrimPrefix(string(data), export.BOM)
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	if first, _, _ := strings.Cut(text, "\n"); strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	var lines []BulkLine
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, apperr.InvalidField("file", "credit.bulk_not_csv").Because(err)
		}
		if n == 1 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "uin") {
			n--
			continue // the header
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			n--
			continue // a blank line
		}
		l := BulkLine{Line: n}
		if len(rec) < 2 || len(rec) > 3 {
			l.Problem = LineColumns
		} else {
			l.Uin, l.Amount = strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
			if len(rec) == 3 {
				l.Remark = strings.TrimSpace(rec[2])
			}
		}
		lines = append(lines, l)
		if len(lines) > MaxBulkLines {
			return nil, apperr.InvalidField("file", "credit.bulk_too_many").With(map[string]any{"Max": MaxBulkLines})
		}
	}
	if len(lines) == 0 {
		return nil, apperr.InvalidField("file", "credit.bulk_empty")
	}
	return lines, nil
}

// SelectionLines are the lines of one amount for customers chosen in the
// overview.
func SelectionLines(uins []string, amount, remark string) ([]BulkLine, error) {
	if len(uins) == 0 {
		return nil, apperr.InvalidField("uin", "credit.bulk_none_selected")
	}
	if len(uins) > MaxBulkLines {
		return nil, apperr.InvalidField("uin", "credit.bulk_too_many").With(map[string]any{"Max": MaxBulkLines})
	}
	lines := make([]BulkLine, len(uins))
	for i, u := range uins {
		lines[i] = BulkLine{Line: i + 1, Uin: strings.TrimSpace(u), Amount: strings.TrimSpace(amount), Remark: strings.TrimSpace(remark)}
	}
	return lines, nil
}

// PrepareBulk checks every line and stores the batch for its preview. The
// key is the upload form's: the same form sent twice is the same batch.
// A reseller's login allocates to its own customers (with its own key),
// the distributor's people to the distributor's direct customers; a line
// for anyone else is refused as not the partner's customer.
func (s *Service) PrepareBulk(ctx context.Context, actor audit.Actor, key, source string, lines []BulkLine) (Batch, error) {
	if !actor.Can(auth.WriteCredit) || actor.UserID == 0 {
		return Batch{}, errBulkForbidden
	}
	if !keyPattern.MatchString(key) {
		return Batch{}, apperr.InvalidField("key", msgBadKey)
	}
	if prior, err := s.batches.CreditBatchByKey(ctx, key); err == nil {
		if prior.UserID != actor.UserID {
			return Batch{}, apperr.New(apperr.Conflict, "", msgKeyReused)
		}
		return s.batch(ctx, actor, prior)
	}
	seen := map[uint64]int{}
	var uins []uint64
	for i := range lines {
		l := &lines[i]
		if l.Problem != "" {
			continue
		}
		uin, err := strconv.ParseUint(l.Uin, 10, 64)
		if err != nil || uin == 0 {
			l.Problem = LineBadUin
			continue
		}
		checked, _, err := check(Request{Key: key, Target: store.AllocationToCustomer, Uin: uin, Amount: l.Amount, Remark: l.Remark})
		if err != nil {
			fields := apperr.Fields(err)
			switch {
			case fields["amount"] != nil && fields["amount"].MessageID == msgAmountZero:
				l.Problem = LineZero
			case fields["amount"] != nil:
				l.Problem = LineBadAmount
			case fields["remark"] != nil:
				l.Problem = LineBadRemark
			}
			if l.Problem != "" {
				continue
			}
		}
		l.Amount, l.Remark = checked.Amount, checked.Remark
		row, err := s.batches.CustomerByUin(ctx, uin)
		switch {
		case errors.Is(err, store.ErrNotFound):
			l.Problem = LineNotCustomer
			continue
		case err != nil:
			return Batch{}, err
		case row.ResellerUin != actor.OnBehalfOf():
			// Not this login's customer, or a reseller's customer that one
			// batch with the distributor's key cannot reach.
			l.Problem = LineNotCustomer
			if actor.OnBehalfOf() == 0 {
				l.Problem = LineNotDirect
			}
			continue
		}
		l.Name, l.Remaining = row.Name, row.RemainingCredit
		if first, dup := seen[uin]; dup {
			l.Problem = LineDuplicate
			if lines[first].Problem == "" {
				lines[first].Problem = LineDuplicate
			}
			continue
		}
		seen[uin] = i
		uins = append(uins, uin)
		amount, _ := decimal.NewFromString(l.Amount)
		if avail, err := decimal.NewFromString(row.RemainingCredit); err == nil && amount.IsNegative() && avail.Add(amount).IsNegative() {
			l.Problem = LineBelowZero
		}
	}
	busy, err := s.batches.AllocationsInFlight(ctx, store.AllocationToCustomer, uins)
	if err != nil {
		return Batch{}, err
	}
	for i := range lines {
		if u, err := strconv.ParseUint(lines[i].Uin, 10, 64); err == nil && lines[i].Problem == "" {
			if _, ok := busy[u]; ok {
				lines[i].Problem = LineInFlight
			}
		}
	}
	encoded, err := json.Marshal(lines)
	if err != nil {
		return Batch{}, err
	}
	var b store.CreditBatch
	err = s.batches.WriteDetached(ctx, func(tx *store.Tx) error {
		var err error
		b, err = tx.AddCreditBatch(ctx, store.CreditBatch{Key: key, UserID: actor.UserID, Actor: actor.Username,
			OnBehalfOf: actor.OnBehalfOf(), Source: source, Lines: encoded})
		if err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, actor.Entry("credit.bulk.prepare", 0, map[string]string{
			"batch": strconv.FormatInt(b.ID, 10), "lines": strconv.Itoa(len(lines)), "source": source}))
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		// The same form, sent twice at once: the first one's batch.
		prior, perr := s.batches.CreditBatchByKey(ctx, key)
		if perr != nil {
			return Batch{}, perr
		}
		return s.batch(ctx, actor, prior)
	}
	if err != nil {
		return Batch{}, fmt.Errorf("prepare bulk allocation: %w", err)
	}
	return s.batch(ctx, actor, b)
}

// batch decodes a stored batch with its totals and, once it has a job,
// each line's allocation.
func (s *Service) batch(ctx context.Context, actor audit.Actor, b store.CreditBatch) (Batch, error) {
	out := Batch{CreditBatch: b}
	if err := json.Unmarshal(b.Lines, &out.Lines); err != nil {
		return Batch{}, fmt.Errorf("batch %d: %w", b.ID, err)
	}
	for _, l := range out.Lines {
		if l.Problem != "" {
			out.Problems++
			continue
		}
		amount, err := decimal.NewFromString(l.Amount)
		if err != nil {
			out.Problems++
			continue
		}
		if amount.IsPositive() {
			out.Added = out.Added.Add(amount)
		} else {
			out.TakenBack = out.TakenBack.Add(amount.Neg())
		}
	}
	if b.JobID == 0 && b.Approval != 0 && len(out.Lines) > 0 {
		// Held for approval: once approved, its lines have a job.
		if a, err := s.ledger.CreditAllocationByKey(ctx, lineKey(b.Key, out.Lines[0].Line)); err == nil && a.JobID != 0 {
			b.JobID, out.JobID = a.JobID, a.JobID
			if err := s.batches.WriteDetached(ctx, func(tx *store.Tx) error {
				return tx.SetCreditBatchJob(ctx, b.ID, a.JobID, b.Approval)
			}); err != nil {
				return Batch{}, err
			}
		}
	}
	if b.JobID == 0 {
		figs, err := s.figures.Figures(ctx, actor, apicache.Cached)
		if err == nil && figs.Credit.Value != nil {
			out.Allocable, out.AllocableKnown = figs.Credit.Value.Remaining.Decimal(), true
			// Lines are sent in order, so a take-back early frees credit
			// for a later line; the partner must hold what the lines add
			// beyond what they take back.
			out.OverAllocable = out.Added.Sub(out.TakenBack).GreaterThan(out.Allocable)
		}
		return out, nil
	}
	rows, _, err := s.ledger.CreditLedger(ctx, store.LedgerQuery{JobID: b.JobID, Limit: -1})
	if err != nil {
		return Batch{}, err
	}
	ended := true
	for _, a := range rows {
		ended = ended && a.Status != store.ItemPending && a.Status != store.ItemSent
	}
	out.Outcomes = map[int]Allocation{}
	for _, a := range rows {
		if line, ok := lineOfKey(b.Key, a.Key); ok {
			out.Outcomes[line] = allocationOf(a, ended)
		}
	}
	return out, nil
}

// lineKey is a batch line's idempotency key: the same line of the same
// batch is never allocated twice.
func lineKey(batchKey string, line int) string { return batchKey + "-" + strconv.Itoa(line) }

func lineOfKey(batchKey, key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, batchKey+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// Batch returns a bulk allocation to the person who made it (or an admin).
func (s *Service) Batch(ctx context.Context, actor audit.Actor, id int64) (Batch, error) {
	b, err := s.batches.CreditBatchByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && b.UserID != actor.UserID && actor.Role != auth.RoleAdmin) {
		return Batch{}, apperr.New(apperr.NotFound, "", "credit.bulk_not_found").Because(fmt.Errorf("batch %d", id))
	}
	if err != nil {
		return Batch{}, err
	}
	return s.batch(ctx, actor, b)
}

// ConfirmBulk sends a checked batch as one writes job, at background
// priority (people's own allocations go first), a line after another at
// the documented rate. Each line carries its own idempotency key, so
// confirming twice sends nothing twice: the second confirmation finds the
// first's job.
func (s *Service) ConfirmBulk(ctx context.Context, actor audit.Actor, id int64) (Batch, error) {
	b, err := s.Batch(ctx, actor, id)
	if err != nil {
		return Batch{}, err
	}
	if b.JobID != 0 || b.Approval != 0 {
		return b, nil
	}
	if b.UserID != actor.UserID {
		return Batch{}, errBulkForbidden
	}
	if !b.Confirmable() {
		return Batch{}, apperr.New(apperr.Conflict, "", "credit.bulk_not_confirmable")
	}
	intents := make([]jobs.WriteIntent, 0, len(b.Lines))
	for _, l := range b.Lines {
		uin, _ := strconv.ParseUint(l.Uin, 10, 64)
		intents = append(intents, jobs.WriteIntent{Action: partnerapi.ActionAllocateCustomerCredit, ClientUin: uin,
			AddedCredit: l.Amount, Remark: l.Remark, Key: lineKey(b.Key, l.Line), RemainingBefore: l.Remaining})
	}
	title := fmt.Sprintf("Bulk allocation %d: %d lines", b.ID, len(intents))
	params := jobs.WriteParams{AsReseller: actor.OnBehalfOf()}
	s.prepareApproval(ctx, params, intents)
	job, err := s.writes.SubmitWrites(ctx, actor, title, params, intents)
	var held *jobs.HeldError
	var used *jobs.KeyUsedError
	var busy *jobs.BusyError
	approval := int64(0)
	switch {
	case errors.As(err, &held):
		approval = held.Request
	case errors.As(err, &used):
		// Confirmed at the same moment elsewhere: that job carries it.
		if used.Allocation.JobID == 0 {
			approval = used.Allocation.Approval
		}
		job.ID = used.Allocation.JobID
	case errors.As(err, &busy):
		return Batch{}, busyError(busy.Allocation)
	case err != nil:
		return Batch{}, fmt.Errorf("confirm bulk allocation %d: %w", b.ID, err)
	}
	// Detached: the job exists now, whether or not the person waits.
	err = s.batches.WriteDetached(ctx, func(tx *store.Tx) error {
		return tx.SetCreditBatchJob(ctx, b.ID, job.ID, approval)
	})
	if err != nil {
		return Batch{}, err
	}
	return s.Batch(context.WithoutCancel(ctx), actor, id)
}

// resultColumns are the result file's columns: the lines as given, then
// what became of each.
var resultColumns = []export.Column{
	{Header: "line", Kind: export.Number}, {Header: "uin", Kind: export.Text}, {Header: "amount", Kind: export.Money},
	{Header: "remark", Kind: export.Text}, {Header: "state", Kind: export.Text}, {Header: "credit_after", Kind: export.Money},
	{Header: "remaining_after", Kind: export.Money}, {Header: "error_code", Kind: export.Text}, {Header: "request_id", Kind: export.Text},
}

// BulkResult writes a batch's lines with their outcomes as CSV or XLSX,
// and records the download in the audit log.
func (s *Service) BulkResult(ctx context.Context, actor audit.Actor, id int64, format string, w io.Writer) error {
	b, err := s.Batch(ctx, actor, id)
	if err != nil {
		return err
	}
	t := export.Table{Name: fmt.Sprintf("Bulk allocation %d", b.ID), Columns: resultColumns}
	for _, l := range b.Lines {
		state, after, remaining, code, req := "not sent", "", "", "", ""
		if l.Problem != "" {
			state, code = "refused", l.Problem
		}
		if o, ok := b.Outcomes[l.Line]; ok {
			state, after, remaining, code, req = o.State, o.CreditAfter, o.RemainingAfter, o.Code, o.RequestId
		}
		t.Rows = append(t.Rows, []string{strconv.Itoa(l.Line), l.Uin, l.Amount, l.Remark, state, after, remaining, code, req})
	}
	if format == FormatXLSX {
		err = export.WriteXLSX(w, t)
	} else {
		err = export.WriteCSV(w, t)
	}
	entry := actor.Entry("credit.bulk.result", 0, map[string]string{"batch": strconv.FormatInt(b.ID, 10), "format": format, "rows": strconv.Itoa(len(t.Rows))})
	if err != nil {
		entry.Outcome = store.OutcomeFailed
	}
	if _, aerr := s.ledger.AppendAudit(ctx, entry); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}
