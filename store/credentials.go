package store

import (
	"context"
	"fmt"
	"time"
)

// Credential targets: where a key works.
const (
	TargetSandbox      = "sandbox"      // the portal's built-in sandbox of the partner API
	TargetTencentCloud = "tencentcloud" // Tencent Cloud's partner API
)

// Credential kinds.
const (
	CredentialDistributor = "distributor" // the first-level reseller's own key
	CredentialSubagent    = "subagent"    // a second-level reseller's key
	// CredentialCustomer is a customer's own key; SubagentUin holds the
	// customer's UIN.
	CredentialCustomer = "customer"
)

// APICredential is a partner API key pair; the secret key is stored only as
// ciphertext made by the caller.
type APICredential struct {
	ID              int64
	Target          string // TargetSandbox or TargetTencentCloud
	Kind            string // CredentialDistributor or CredentialSubagent
	SubagentUin     uint64 // 0 for the distributor credential
	Label           string
	SecretId        string
	SecretKeyCipher []byte // AES-GCM ciphertext made by the caller
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

const credentialColumns = `id, target, kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at`

func scanCredential(row rowScanner) (APICredential, error) {
	var (
		c                APICredential
		uin              int64
		created, updated string
	)
	if err := row.Scan(&c.ID, &c.Target, &c.Kind, &uin, &c.Label, &c.SecretId, &c.SecretKeyCipher, &created, &updated); err != nil {
		return APICredential{}, err
	}
	c.SubagentUin = uint64(uin)
	var err error
	if c.CreatedAt, err = parseTime(created); err != nil {
		return APICredential{}, err
	}
	if c.UpdatedAt, err = parseTime(updated); err != nil {
		return APICredential{}, err
	}
	return c, nil
}

// SaveCredential stores c, replacing the credential with the same Target,
// Kind and SubagentUin if there is one (keeping its ID and creation time), and returns
// the stored credential. c.ID is ignored.
func (tx *Tx) SaveCredential(ctx context.Context, c APICredential) (APICredential, error) {
	if len(c.SecretKeyCipher) == 0 {
		return APICredential{}, fmt.Errorf("save %s credential %d: empty secret key", c.Kind, c.SubagentUin)
	}
	now := formatTime(tx.stamp())
	saved, err := scanCredential(tx.tx.QueryRowContext(ctx, `
		INSERT INTO api_credentials (target, kind, subagent_uin, label, secret_id, secret_key_cipher, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (target, kind, subagent_uin) DO UPDATE SET label = excluded.label, secret_id = excluded.secret_id,
			secret_key_cipher = excluded.secret_key_cipher, updated_at = excluded.updated_at
		RETURNING `+credentialColumns,
		c.Target, c.Kind, int64(c.SubagentUin), c.Label, c.SecretId, c.SecretKeyCipher, now, now))
	if err != nil {
		return APICredential{}, fmt.Errorf("save %s credential %d: %w", c.Kind, c.SubagentUin, err)
	}
	return saved, nil
}

// CredentialFor returns the target's credential of the given kind and
// subagent UIN (0 for the distributor), or ErrNotFound.
func (db *DB) CredentialFor(ctx context.Context, target, kind string, subagentUin uint64) (APICredential, error) {
	c, err := scanCredential(db.read.QueryRowContext(ctx,
		`SELECT `+credentialColumns+` FROM api_credentials WHERE target = ? AND kind = ? AND subagent_uin = ?`,
		target, kind, int64(subagentUin)))
	if err != nil {
		return APICredential{}, fmt.Errorf("%s %s credential %d: %w", target, kind, subagentUin, notFound(err))
	}
	return c, nil
}

// CredentialByID returns one credential, or ErrNotFound.
func (db *DB) CredentialByID(ctx context.Context, id int64) (APICredential, error) {
	c, err := scanCredential(db.read.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM api_credentials WHERE id = ?`, id))
	if err != nil {
		return APICredential{}, fmt.Errorf("credential %d: %w", id, notFound(err))
	}
	return c, nil
}

// ListCredentials returns a target's credentials, the distributor's first,
// then by subagent UIN.
func (db *DB) ListCredentials(ctx context.Context, target string) ([]APICredential, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT `+credentialColumns+` FROM api_credentials WHERE target = ? ORDER BY kind = 'subagent', subagent_uin`, target)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	defer rows.Close()
	var creds []APICredential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, fmt.Errorf("list credentials: %w", err)
		}
		creds = append(creds, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return creds, nil
}

// DeleteCredential deletes credential id, or returns ErrNotFound.
func (tx *Tx) DeleteCredential(ctx context.Context, id int64) error {
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM api_credentials WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete credential %d: %w", id, err)
	}
	return affectedOne(res, fmt.Sprintf("delete credential %d", id))
}
