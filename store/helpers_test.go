package store

import "context"

func createSession(ctx context.Context, db *DB, s Session) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.CreateSession(ctx, s) })
}

func updateSession(ctx context.Context, db *DB, s Session) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.UpdateSession(ctx, s) })
}
