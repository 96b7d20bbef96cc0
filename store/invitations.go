package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Invitation is an invitation mail the portal sent.
type Invitation struct {
	ID         int64
	Token      string
	Link       string
	Email      string
	Role       string // InvitationClient or InvitationSubAgent
	PartnerUin uint64 // who sent it: 0 the distributor, else a second-level reseller
	SentBy     int64  // the user; 0 when that user has been deleted
	SentByName string
	JobID      int64 // the write job that sent it; 0 when none
	RequestId  string
	CreatedAt  time.Time
}

// The roles an invitation invites to.
const (
	InvitationClient   = "Client"   // a customer
	InvitationSubAgent = "SubAgent" // a second-level reseller
)

const invitationColumns = `id, token, link, email, role, partner_uin, sent_by, sent_by_name, job_id, request_id, created_at`

func scanInvitation(row rowScanner) (Invitation, error) {
	var (
		inv         Invitation
		partner     int64
		sentBy, job sql.NullInt64
		created     string
	)
	if err := row.Scan(&inv.ID, &inv.Token, &inv.Link, &inv.Email, &inv.Role, &partner, &sentBy, &inv.SentByName, &job, &inv.RequestId, &created); err != nil {
		return Invitation{}, err
	}
	inv.PartnerUin, inv.SentBy, inv.JobID = uint64(partner), sentBy.Int64, job.Int64
	var err error
	inv.CreatedAt, err = parseTime(created)
	return inv, err
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// AddInvitation records an invitation that was sent; CreatedAt zero is now.
func (tx *Tx) AddInvitation(ctx context.Context, inv Invitation) (Invitation, error) {
	if inv.Token == "" || inv.Email == "" {
		return Invitation{}, errors.New("add invitation: a token and an address are needed")
	}
	if inv.Role != InvitationClient && inv.Role != InvitationSubAgent {
		return Invitation{}, fmt.Errorf("add invitation: unknown role %q", inv.Role)
	}
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = tx.stamp()
	}
	row := tx.tx.QueryRowContext(ctx, `INSERT INTO invitations (token, link, email, role, partner_uin, sent_by, sent_by_name, job_id, request_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		inv.Token, inv.Link, inv.Email, inv.Role, int64(inv.PartnerUin), nullID(inv.SentBy), inv.SentByName, nullID(inv.JobID), inv.RequestId, formatTime(inv.CreatedAt))
	if err := row.Scan(&inv.ID); err != nil {
		if isUniqueViolation(err) {
			return Invitation{}, fmt.Errorf("add invitation %s: %w", inv.Token, ErrConflict)
		}
		return Invitation{}, fmt.Errorf("add invitation: %w", err)
	}
	return inv, nil
}

// InvitationFilter selects a partner's invitations.
type InvitationFilter struct {
	PartnerUin uint64 // whose: 0 the distributor's
	Email      string // when set, only those to this address (any case)
	Limit      int    // 0 = 50; at most 500
	Offset     int
}

// ListInvitations returns a partner's invitations, newest first, and how
// many match in all.
func (db *DB) ListInvitations(ctx context.Context, f InvitationFilter) ([]Invitation, int, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 50
	case limit > 500:
		limit = 500
	}
	where, args := "partner_uin = ?", []any{int64(f.PartnerUin)}
	if e := strings.TrimSpace(f.Email); e != "" {
		where += " AND lower(email) = lower(?)"
		args = append(args, e)
	}
	var total int
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM invitations WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count invitations: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+invitationColumns+" FROM invitations WHERE "+where+
		" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", append(args, limit, max(0, f.Offset))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list invitations: %w", err)
		}
		out = append(out, inv)
	}
	return out, total, rows.Err()
}

// InvitationByID returns one invitation.
func (db *DB) InvitationByID(ctx context.Context, id int64) (Invitation, error) {
	inv, err := scanInvitation(db.read.QueryRowContext(ctx, "SELECT "+invitationColumns+" FROM invitations WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Invitation{}, fmt.Errorf("invitation %d: %w", id, ErrNotFound)
	}
	return inv, err
}

// LastInvitationTo returns the partner's latest invitation to an address
// (any case), or ErrNotFound.
func (db *DB) LastInvitationTo(ctx context.Context, partnerUin uint64, email string) (Invitation, error) {
	inv, err := scanInvitation(db.read.QueryRowContext(ctx, "SELECT "+invitationColumns+
		" FROM invitations WHERE partner_uin = ? AND lower(email) = lower(?) ORDER BY created_at DESC, id DESC LIMIT 1",
		int64(partnerUin), strings.TrimSpace(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return Invitation{}, fmt.Errorf("invitation to %s: %w", email, ErrNotFound)
	}
	return inv, err
}
