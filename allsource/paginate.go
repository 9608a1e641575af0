package allsource

import (
	"context"
	"fmt"
	"iter"

	"github.com/allsource-go/allsource/runtime"
)

// Page is one page of a paginated listing.
type Page[T any] struct {
	// Items holds the page's items in server order.
	Items []T
	// HasMore is the server's word on whether more items follow; older
	// servers do not send it, and then a short page ends the listing.
	HasMore runtime.Opt[bool]
}

// pageFetcher fetches the page of at most limit items that starts at offset.
type pageFetcher[T any] func(ctx context.Context, offset, limit int64) (Page[T], error)

// pageWindow says which items a paginated listing yields: from offset on,
// at most limit of them (0: all), fetched size at a time.
type pageWindow struct {
	size, offset, limit int64
}

// paginate yields the items of w, fetching pages lazily as the caller
// ranges. It stops after a page with HasMore false or a short page (older
// servers do not send has_more), and yields a *runtime.ProtocolError and
// stops when a page holds more items than asked for (the server ignored the
// limit) or starts with the same item as the page before it (the server
// ignored the offset), so a broken server can never cause an endless loop.
// same reports whether two items are the same item.
func paginate[T any](ctx context.Context, op string, w pageWindow, fetch pageFetcher[T], same func(a, b *T) bool) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		offset := w.offset
		var yielded int64
		var prevFirst T
		for page := 0; ; page++ {
			var zero T
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			pageSize := w.size
			if w.limit > 0 {
				pageSize = min(pageSize, w.limit-yielded)
			}
			p, err := fetch(ctx, offset, pageSize)
			if err != nil {
				yield(zero, err)
				return
			}
			if len(p.Items) == 0 {
				return
			}
			if page > 0 && same(&p.Items[0], &prevFirst) {
				yield(zero, &runtime.ProtocolError{OperationID: op, Reason: fmt.Sprintf("page at offset %d starts with the same item as the page before it: the offset was ignored", offset)})
				return
			}
			if int64(len(p.Items)) > pageSize {
				yield(zero, &runtime.ProtocolError{OperationID: op, Reason: fmt.Sprintf("asked for at most %d items, got %d", pageSize, len(p.Items))})
				return
			}
			prevFirst = p.Items[0]
			for i := range p.Items {
				if !yield(p.Items[i], nil) {
					return
				}
			}
			yielded += int64(len(p.Items))
			if more, known := p.HasMore.Get(); known && !more || int64(len(p.Items)) < pageSize || w.limit > 0 && yielded >= w.limit {
				return
			}
			offset += int64(len(p.Items))
		}
	}
}

// Fold applies f to every item of seq in order, starting from initial, and
// returns the final state and the number of items folded, so an empty result
// (n == 0) is distinguishable from a fold that produced the zero state. It
// holds one item at a time: memory stays flat however many items there are.
// It stops at the first error, from seq or from f.
func Fold[S, T any](seq iter.Seq2[T, error], initial S, f func(S, T) (S, error)) (state S, n int64, err error) {
	state = initial
	for item, err := range seq {
		if err != nil {
			return state, n, err
		}
		if state, err = f(state, item); err != nil {
			return state, n, fmt.Errorf("allsource: fold item %d: %w", n+1, err)
		}
		n++
	}
	return state, n, nil
}
