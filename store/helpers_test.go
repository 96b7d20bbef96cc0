package store

import "context"

// inTx runs one write through a transaction, for tests of Tx methods.
func inTx[T any](ctx context.Context, db *DB, fn func(tx *Tx) (T, error)) (T, error) {
	var out T
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

func createSession(ctx context.Context, db *DB, s Session) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.CreateSession(ctx, s) })
}

func updateSession(ctx context.Context, db *DB, s Session) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.UpdateSession(ctx, s) })
}
