package partnerapi

import (
	"context"
	"iter"
)

// pageOf is one page of a paged list action.
type pageOf[T any] struct {
	Items    []T
	Size     int64 // the page size asked for
	Total    int64
	HasTotal bool
}

// walkPages yields every item of a paged action, page 1 onwards, until the
// answered total is reached or a short page arrives. Each page goes through
// the client's limiter like any other call.
func walkPages[T any](ctx context.Context, size int, fetch func(ctx context.Context, page, size int64) (pageOf[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var seen int64
		for page := int64(1); ; page++ {
			p, err := fetch(ctx, page, int64(size))
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Items {
				if !yield(item, nil) {
					return
				}
			}
			seen += int64(len(p.Items))
			if len(p.Items) == 0 || (p.HasTotal && seen >= p.Total) || (!p.HasTotal && int64(len(p.Items)) < p.Size) {
				return
			}
		}
	}
}
