package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// Session is a server-side session behind a browser cookie.
type Session struct {
	// ID is the hex SHA-256 of the cookie token (see SessionID), never the
	// token itself, so a leaked database or backup cannot be replayed as cookies.
	ID         string
	UserID     int64 // 0 before login
	Data       []byte
	CreatedAt  time.Time
	LastSeen   time.Time
	ExpiresAt  time.Time
	ClientAddr string
	UserAgent  string
}

// SessionID returns the stored ID for a cookie token: its hex SHA-256.
func SessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// validSessionID reports whether id has the shape SessionID produces, which
// catches a caller passing the raw token by mistake.
func validSessionID(id string) bool {
	if len(id) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

const sessionColumns = `id, coalesce(user_id, 0), data, created_at, last_seen, expires_at, client_addr, user_agent`

func scanSession(row rowScanner) (Session, error) {
	var (
		s                        Session
		created, seen, expiresAt string
	)
	if err := row.Scan(&s.ID, &s.UserID, &s.Data, &created, &seen, &expiresAt, &s.ClientAddr, &s.UserAgent); err != nil {
		return Session{}, err
	}
	var err error
	if s.CreatedAt, err = parseTime(created); err != nil {
		return Session{}, err
	}
	if s.LastSeen, err = parseTime(seen); err != nil {
		return Session{}, err
	}
	if s.ExpiresAt, err = parseTime(expiresAt); err != nil {
		return Session{}, err
	}
	return s, nil
}

// nullUserID stores "not logged in yet" as NULL so the foreign key to users
// does not apply.
func nullUserID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}

// CreateSession inserts a new session; ErrConflict when its ID exists. A
// zero CreatedAt or LastSeen is set from the clock; ExpiresAt is required.
func (tx *Tx) CreateSession(ctx context.Context, s Session) error {
	if !validSessionID(s.ID) {
		return fmt.Errorf("create session: id is not a hex SHA-256 (pass SessionID(token))")
	}
	if s.ExpiresAt.IsZero() {
		return fmt.Errorf("create session %.8s: no expiry", s.ID)
	}
	now := tx.stamp()
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	if s.LastSeen.IsZero() {
		s.LastSeen = now
	}
	if s.Data == nil {
		s.Data = []byte{} // data is NOT NULL
	}
	_, err := tx.tx.ExecContext(ctx, `
		INSERT INTO sessions (id, user_id, data, created_at, last_seen, expires_at, client_addr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, nullUserID(s.UserID), s.Data, formatTime(s.CreatedAt), formatTime(s.LastSeen),
		formatTime(s.ExpiresAt), s.ClientAddr, s.UserAgent)
	if isUniqueViolation(err) {
		return fmt.Errorf("create session %.8s: %w", s.ID, ErrConflict)
	}
	if err != nil {
		// Only the first 8 characters of the ID go into errors and logs.
		return fmt.Errorf("create session %.8s: %w", s.ID, err)
	}
	return nil
}

// UpdateSession stores a live session's user, data, client and last use.
// It never inserts: a session ended meanwhile (signed out, ended by an
// admin, its user disabled) stays ended, and the error is ErrNotFound. Its
// creation time and expiry never change.
func (tx *Tx) UpdateSession(ctx context.Context, s Session) error {
	if s.Data == nil {
		s.Data = []byte{}
	}
	res, err := tx.tx.ExecContext(ctx, `
		UPDATE sessions SET user_id = ?, data = ?, last_seen = ?, client_addr = ?, user_agent = ?
		WHERE id = ?`,
		nullUserID(s.UserID), s.Data, formatTime(s.LastSeen), s.ClientAddr, s.UserAgent, s.ID)
	if err != nil {
		return fmt.Errorf("update session %.8s: %w", s.ID, err)
	}
	return affectedOne(res, fmt.Sprintf("update session %.8s", s.ID))
}

// SessionByID returns the session with the given ID, or ErrNotFound when it
// does not exist or has expired by the store's clock: an expired session that
// cleanup has not removed yet must not log anyone in.
func (db *DB) SessionByID(ctx context.Context, id string) (Session, error) {
	s, err := scanSession(db.read.QueryRowContext(ctx,
		`SELECT `+sessionColumns+` FROM sessions WHERE id = ? AND expires_at > ?`,
		id, formatTime(db.now())))
	if err != nil {
		return Session{}, fmt.Errorf("session %.8s: %w", id, notFound(err))
	}
	return s, nil
}

// SessionsForUser returns the unexpired sessions of user userID, newest first.
func (db *DB) SessionsForUser(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND expires_at > ?
		ORDER BY created_at DESC, id`, userID, formatTime(db.now()))
	if err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
	}
	defer rows.Close()
	var sessions []Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
		}
		sessions = append(sessions, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
	}
	return sessions, nil
}

// DeleteSession deletes the session with the given ID. Deleting a session
// that is already gone is not an error, so logging out twice is harmless.
func (tx *Tx) DeleteSession(ctx context.Context, id string) error {
	tx.identity = true
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete session %.8s: %w", id, err)
	}
	return nil
}

// DeleteSession deletes a session in its own transaction; see Tx.DeleteSession.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.DeleteSession(ctx, id) })
}

// DeleteUserSessions deletes every session of user userID except exceptID
// ("" deletes all; pass the current session to log out everywhere else) and
// returns how many it deleted.
func (tx *Tx) DeleteUserSessions(ctx context.Context, userID int64, exceptID string) (int, error) {
	tx.identity = true
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, exceptID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return int(n), nil
}

// DeleteExpiredSessions deletes every session whose expiry is at or before
// now and returns how many it deleted.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.Write(ctx, func(tx *Tx) error {
		tx.identity = true
		res, err := tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, formatTime(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}

// TouchSession records that the session was used at lastSeen, or returns
// ErrNotFound.
func (db *DB) TouchSession(ctx context.Context, id string, lastSeen time.Time) error {
	return db.Write(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ?`, formatTime(lastSeen), id)
		if err != nil {
			return fmt.Errorf("touch session %.8s: %w", id, err)
		}
		return affectedOne(res, fmt.Sprintf("touch session %.8s", id))
	})
}
