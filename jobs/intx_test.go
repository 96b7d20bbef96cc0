package jobs_test

import (
	"context"

	"resellerportal/store"
)

// inTx runs one write through a store transaction and returns its result.
func inTx[T any](ctx context.Context, db *store.DB, fn func(tx *store.Tx) (T, error)) (T, error) {
	var out T
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}
