package store

import (
	"context"
	"fmt"
)

// Setting returns the value stored under key, or ErrNotFound.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var value string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
	if err != nil {
		return "", fmt.Errorf("setting %q: %w", key, notFound(err))
	}
	return value, nil
}

// SetSetting stores value under key, replacing any previous value.
func (tx *Tx) SetSetting(ctx context.Context, key, value string) error {
	_, err := tx.tx.ExecContext(ctx, `
		INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, formatTime(tx.stamp()))
	if err != nil {
		return fmt.Errorf("set setting %q: %w", key, err)
	}
	return nil
}
