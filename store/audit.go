package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	ID         int64
	Time       time.Time // UTC, set by the store from its clock
	Actor      string
	ActorRole  string
	OnBehalfOf uint64 // second-level reseller UIN acted for, or 0
	Action     string
	TargetUin  uint64
	Params     map[string]string // sensitive values are stored as "[redacted]"
	Outcome    string            // "ok", "failed" or "unknown"
	Code       string            // error code when failed
	RequestId  string
	ClientAddr string
	PrevHash   string // hex; 64 zeros for the first row
	Hash       string // hex SHA-256 of PrevHash and the canonical content
}

// Audit outcomes.
const (
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomeUnknown = "unknown" // the partner API call timed out: it may or may not have happened
)

// Redacted replaces the value of every sensitive audit parameter.
const Redacted = "[redacted]"

// genesisHash is the PrevHash of the first audit row.
var genesisHash = strings.Repeat("0", 2*sha256.Size)

// sensitiveParamWords are matched case-insensitively anywhere in a parameter
// key. The match is deliberately broad ("key" also hits "monkey"): a
// needlessly hidden value costs little, a leaked secret in an append-only log
// can never be removed.
var sensitiveParamWords = []string{"password", "secret", "token", "key", "code"}

// publicParams are the keys, lower-cased, that match a sensitive word but
// name public facts: a phone number's country code is no secret, and
// hiding it would hide which number a code was sent to.
var publicParams = map[string]bool{"countrycode": true}

// redactParams returns a copy of params with sensitive values replaced and
// every string made valid UTF-8.
func redactParams(params map[string]string) map[string]string {
	out := make(map[string]string, len(params))
	for k, v := range params {
		k = strings.ToValidUTF8(k, "\uFFFD")
		lower := strings.ToLower(k)
		if !publicParams[lower] && slices.ContainsFunc(sensitiveParamWords, func(w string) bool { return strings.Contains(lower, w) }) {
			v = Redacted
		}
		out[k] = strings.ToValidUTF8(v, "\uFFFD")
	}
	return out
}

// auditCanonical is the content an audit row's hash covers: every column
// except id and hash. It is encoded with encoding/json, which writes struct
// fields in the order declared here and map keys sorted, so the encoding is
// deterministic:
//
//	{"prev_hash":"…","time":"2006-01-02T15:04:05.000000000Z","actor":"…","actor_role":"…",
//	 "on_behalf_of":0,"action":"…","target_uin":0,"params":{"a":"…","b":"…"},
//	 "outcome":"…","code":"…","request_id":"…","client_addr":"…"}
//
// time is RFC 3339 in UTC with exactly nine fractional digits, params is {}
// when empty, and the row's hash is hex(SHA-256(prev_hash || that JSON)),
// prev_hash being the 64 hex characters of the previous row's hash. Changing
// this encoding breaks verification of every existing row, so don't.
type auditCanonical struct {
	PrevHash   string            `json:"prev_hash"`
	Time       string            `json:"time"`
	Actor      string            `json:"actor"`
	ActorRole  string            `json:"actor_role"`
	OnBehalfOf uint64            `json:"on_behalf_of"`
	Action     string            `json:"action"`
	TargetUin  uint64            `json:"target_uin"`
	Params     map[string]string `json:"params"`
	Outcome    string            `json:"outcome"`
	Code       string            `json:"code"`
	RequestID  string            `json:"request_id"`
	ClientAddr string            `json:"client_addr"`
}

// auditHash computes the chained hash of e from e.PrevHash and its content.
func auditHash(e AuditEntry) (string, error) {
	params := e.Params
	if params == nil {
		params = map[string]string{}
	}
	content, err := json.Marshal(auditCanonical{
		PrevHash:   e.PrevHash,
		Time:       formatTime(e.Time),
		Actor:      e.Actor,
		ActorRole:  e.ActorRole,
		OnBehalfOf: e.OnBehalfOf,
		Action:     e.Action,
		TargetUin:  e.TargetUin,
		Params:     params,
		Outcome:    e.Outcome,
		Code:       e.Code,
		RequestID:  e.RequestId,
		ClientAddr: e.ClientAddr,
	})
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil)), nil
}

const auditColumns = `id, time, actor, actor_role, on_behalf_of, action, target_uin, params,
	outcome, code, request_id, client_addr, prev_hash, hash`

func scanAudit(row rowScanner) (AuditEntry, error) {
	var (
		e                  AuditEntry
		at, params         string
		onBehalfOf, target int64
	)
	if err := row.Scan(&e.ID, &at, &e.Actor, &e.ActorRole, &onBehalfOf, &e.Action, &target, &params,
		&e.Outcome, &e.Code, &e.RequestId, &e.ClientAddr, &e.PrevHash, &e.Hash); err != nil {
		return AuditEntry{}, err
	}
	var err error
	if e.Time, err = parseTime(at); err != nil {
		return AuditEntry{}, err
	}
	e.OnBehalfOf, e.TargetUin = uint64(onBehalfOf), uint64(target)
	if err := json.Unmarshal([]byte(params), &e.Params); err != nil {
		return AuditEntry{}, fmt.Errorf("audit row %d params: %w", e.ID, err)
	}
	return e, nil
}

// AppendAudit appends e to the audit log inside the transaction, so the row
// commits or rolls back together with the change it records. The store sets
// ID, Time, PrevHash and Hash and redacts sensitive params; the stored entry
// is returned.
func (tx *Tx) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	switch e.Outcome {
	case OutcomeOK, OutcomeFailed, OutcomeUnknown:
	default:
		return AuditEntry{}, fmt.Errorf("append audit %q: invalid outcome %q", e.Action, e.Outcome)
	}
	if e.Action == "" {
		return AuditEntry{}, fmt.Errorf("append audit: empty action")
	}
	// Strings are made valid UTF-8 before hashing because encoding/json would
	// otherwise hash a replacement character while the raw bytes are stored.
	for _, s := range []*string{&e.Actor, &e.ActorRole, &e.Action, &e.Code, &e.RequestId, &e.ClientAddr} {
		*s = strings.ToValidUTF8(*s, "\uFFFD")
	}
	e.Params = redactParams(e.Params)
	e.Time = tx.stamp()

	// Reading the previous hash here is race-free: the write transaction is
	// IMMEDIATE, so no other writer can append between this read and the insert.
	err := tx.tx.QueryRowContext(ctx, `SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&e.PrevHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		e.PrevHash = genesisHash
	case err != nil:
		return AuditEntry{}, fmt.Errorf("append audit %q: %w", e.Action, err)
	}
	if e.Hash, err = auditHash(e); err != nil {
		return AuditEntry{}, fmt.Errorf("append audit %q: %w", e.Action, err)
	}
	params, err := json.Marshal(e.Params)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("append audit %q: %w", e.Action, err)
	}
	err = tx.tx.QueryRowContext(ctx, `
		INSERT INTO audit_log (time, actor, actor_role, on_behalf_of, action, target_uin, params,
			outcome, code, request_id, client_addr, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		formatTime(e.Time), e.Actor, e.ActorRole, int64(e.OnBehalfOf), e.Action, int64(e.TargetUin), string(params),
		e.Outcome, e.Code, e.RequestId, e.ClientAddr, e.PrevHash, e.Hash).Scan(&e.ID)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("append audit %q: %w", e.Action, err)
	}
	return e, nil
}

// AppendAudit appends e in its own transaction, whatever becomes of ctx's
// request (see WriteDetached): an audit row records something that has
// already happened. See Tx.AppendAudit.
func (db *DB) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	var stored AuditEntry
	err := db.WriteDetached(ctx, func(tx *Tx) error {
		var err error
		stored, err = tx.AppendAudit(ctx, e)
		return err
	})
	return stored, err
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	From, To  time.Time // From <= Time < To; zero = open
	Actor     string
	Action    string
	TargetUin uint64
	// After is the id of the row a page continues from (0: the newest);
	// rows come newest first, older than it, or newer than it when Newer is
	// set (the page before).
	After int64
	Newer bool
	Limit int // 0 = DefaultAuditLimit; capped at MaxAuditLimit
}

// Page sizes for QueryAudit.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// where renders the filter (not the page position) as a SQL condition and
// its arguments.
func (f AuditFilter) where() (string, []any) {
	conds := []string{"1 = 1"}
	var args []any
	if !f.From.IsZero() {
		conds = append(conds, "time >= ?")
		args = append(args, formatTime(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "time < ?")
		args = append(args, formatTime(f.To))
	}
	if f.Actor != "" {
		conds = append(conds, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		conds = append(conds, "action = ?")
		args = append(args, f.Action)
	}
	if f.TargetUin != 0 {
		conds = append(conds, "target_uin = ?")
		args = append(args, int64(f.TargetUin))
	}
	return strings.Join(conds, " AND "), args
}

// QueryAudit returns one page of the entries matching f, newest first, and
// whether there are more beyond it in the direction it was read. Pages are
// found by keyset (f.After), never by OFFSET, so the hundredth page costs
// what the first does.
func (db *DB) QueryAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, bool, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	limit = min(limit, MaxAuditLimit)
	where, args := f.where()
	order := "time DESC, id DESC"
	if f.After != 0 {
		cmp := "<"
		if f.Newer {
			cmp, order = ">", "time ASC, id ASC"
		}
		where += " AND (time, id) " + cmp + " (SELECT time, id FROM audit_log WHERE id = ?)"
		args = append(args, f.After)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE `+where+`
		ORDER BY `+order+` LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("query audit: %w", err)
	}
	defer rows.Close()
	var entries []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, false, fmt.Errorf("query audit: %w", err)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("query audit: %w", err)
	}
	more := len(entries) > limit
	if more {
		entries = entries[:limit]
	}
	if f.Newer && f.After != 0 {
		slices.Reverse(entries)
	}
	return entries, more, nil
}

// AuditEntryByID returns one audit row, or ErrNotFound.
func (db *DB) AuditEntryByID(ctx context.Context, id int64) (AuditEntry, error) {
	e, err := scanAudit(db.read.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE id = ?`, id))
	if err != nil {
		return AuditEntry{}, fmt.Errorf("audit row %d: %w", id, notFound(err))
	}
	return e, nil
}

// CountAudit counts the entries matching f, stopping at upTo: a page says
// "more than 1,000" rather than counting a large log on every view.
func (db *DB) CountAudit(ctx context.Context, f AuditFilter, upTo int) (int, error) {
	where, args := f.where()
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM audit_log WHERE `+where+` LIMIT ?)`,
		append(args, upTo)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count audit: %w", err)
	}
	return n, nil
}

// AuditReport is the result of VerifyAudit.
type AuditReport struct {
	Rows     int    // rows verified intact before the first broken link (all rows when intact)
	BrokenID int64  // id of the first row that fails verification; 0 when the chain is intact
	Problem  string // what is wrong with BrokenID; "" when intact
}

// VerifyAudit walks the audit log in id order, recomputing every hash, and
// reports the first broken link: a row whose content no longer matches its
// hash, whose prev_hash is not the previous row's hash, or which follows a gap
// in the ids (a deleted row). Rows cut from the end are detected through
// sqlite_sequence, which still records the highest id ever written.
func (db *DB) VerifyAudit(ctx context.Context) (AuditReport, error) {
	var report AuditReport
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		prevID, prevHash := int64(0), genesisHash
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			if problem, err := auditLinkProblem(e, prevID, prevHash); err != nil {
				return err
			} else if problem != "" {
				report.BrokenID, report.Problem = e.ID, problem
				return nil
			}
			report.Rows++
			prevID, prevHash = e.ID, e.Hash
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var seq int64
		err = tx.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'`).Scan(&seq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if seq > prevID {
			report.BrokenID = prevID + 1
			report.Problem = fmt.Sprintf("rows %d to %d are missing from the end (deleted)", prevID+1, seq)
		}
		return nil
	})
	if err != nil {
		return AuditReport{}, fmt.Errorf("verify audit: %w", err)
	}
	return report, nil
}

// auditLinkProblem describes what is wrong with e given the row before it, or
// returns "" when e is a sound link.
func auditLinkProblem(e AuditEntry, prevID int64, prevHash string) (string, error) {
	if e.ID != prevID+1 {
		if e.ID-1 == prevID+1 {
			return fmt.Sprintf("row %d is missing (deleted)", prevID+1), nil
		}
		return fmt.Sprintf("rows %d to %d are missing (deleted)", prevID+1, e.ID-1), nil
	}
	if e.PrevHash != prevHash {
		if prevID == 0 {
			return "prev_hash of the first row is not the genesis value", nil
		}
		return fmt.Sprintf("prev_hash does not match the hash of row %d", prevID), nil
	}
	want, err := auditHash(e)
	if err != nil {
		return "", err
	}
	if want != e.Hash {
		return "content does not match its hash (row changed)", nil
	}
	return "", nil
}

// auditCSVHeader names the columns ExportAuditCSV writes.
var auditCSVHeader = []string{"id", "time_utc", "actor", "actor_role", "on_behalf_of", "target_uin", "action",
	"params", "outcome", "code", "request_id", "client_addr", "hash"}

// ExportAuditCSV writes the entries f selects (its page position aside),
// oldest first, as CSV with a header row, and returns how many entries it
// wrote. The read snapshot stays open while w is written, which delays WAL
// checkpoints but never blocks writers.
func (db *DB) ExportAuditCSV(ctx context.Context, w io.Writer, f AuditFilter) (int, error) {
	where, args := f.where()
	n := 0
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE `+where+` ORDER BY id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cw := csv.NewWriter(w)
		if err := cw.Write(auditCSVHeader); err != nil {
			return err
		}
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				return err
			}
			record := []string{
				strconv.FormatInt(e.ID, 10),
				formatTime(e.Time),
				csvCell(e.Actor),
				csvCell(e.ActorRole),
				strconv.FormatUint(e.OnBehalfOf, 10),
				strconv.FormatUint(e.TargetUin, 10),
				csvCell(e.Action),
				csvCell(formatParams(e.Params)),
				csvCell(e.Outcome),
				csvCell(e.Code),
				csvCell(e.RequestId),
				csvCell(e.ClientAddr),
				e.Hash,
			}
			if err := cw.Write(record); err != nil {
				return err
			}
			n++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return n, fmt.Errorf("export audit csv: %w", err)
	}
	return n, nil
}

// formatParams renders params as "k=v; k=v" sorted by key.
func formatParams(params map[string]string) string {
	parts := make([]string, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		parts = append(parts, k+"="+params[k])
	}
	return strings.Join(parts, "; ")
}

// csvCell guards against CSV formula injection: spreadsheets run a cell that
// starts with = + - @ (or a tab or carriage return, which some strip first) as
// a formula, so such a cell gets a leading apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
