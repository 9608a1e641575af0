package runtime

import (
	"context"
	"fmt"
	"iter"
	"reflect"
)

// Page is one page of a paginated listing, as the iterators of generated
// clients (and SDK layers) hand it to the paginators below.
type Page[T any] struct {
	// Items holds the page's items in server order.
	Items []T
	// HasMore is the server's word on whether more items follow, when it
	// gives one; without it a short page ends an offset listing.
	HasMore Opt[bool]
	// Next is the cursor of the next page (cursor paging); "" ends the
	// listing.
	Next string
}

// PaginateOffset ranges over the items of an offset-and-limit listing from
// position start on, at most total of them (0: all), fetching pages of size
// items (0: the server's page size; the last page asks only for what the
// total still allows) as the caller ranges. It stops after a page with
// HasMore false, an empty page, or, when the page size is known, a short
// page. A page with more items than asked for (the server ignored the
// limit), or the same items as the page before it (the server ignored the
// offset), ends the listing with a *ProtocolError naming op, so that a
// broken server can never cause an endless loop.
func PaginateOffset[T any](ctx context.Context, op string, start, size, total int64, fetch func(ctx context.Context, offset, limit int64) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		offset := start
		var yielded int64
		var prev []T
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			ask := size
			if total > 0 && (ask == 0 || total-yielded < ask) {
				ask = total - yielded
			}
			p, err := fetch(ctx, offset, ask)
			if err != nil {
				yield(zero, err)
				return
			}
			if len(p.Items) == 0 {
				return
			}
			if ask > 0 && int64(len(p.Items)) > ask {
				yield(zero, &ProtocolError{OperationID: op, Reason: fmt.Sprintf("asked for at most %d items, got %d", ask, len(p.Items))})
				return
			}
			if prev != nil && reflect.DeepEqual(p.Items, prev) {
				yield(zero, &ProtocolError{OperationID: op, Reason: fmt.Sprintf("page at offset %d holds the same items as the page before it: the offset was ignored", offset)})
				return
			}
			prev = p.Items
			for i := range p.Items {
				if !yield(p.Items[i], nil) {
					return
				}
			}
			yielded += int64(len(p.Items))
			more, known := p.HasMore.Get()
			if known && !more || !known && ask > 0 && int64(len(p.Items)) < ask || total > 0 && yielded >= total {
				return
			}
			offset += int64(len(p.Items))
		}
	}
}

// PaginateCursor ranges over the items of a cursor (or page token) listing,
// fetching the first page with the cursor "" and each next one with the
// cursor the page before it gave, as the caller ranges. It stops after a
// page without a next cursor. A cursor seen before (the server is going in
// circles) ends the listing with a *ProtocolError naming op.
func PaginateCursor[T any](ctx context.Context, op string, fetch func(ctx context.Context, cursor string) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		seen := map[string]bool{}
		cursor := ""
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			p, err := fetch(ctx, cursor)
			if err != nil {
				yield(zero, err)
				return
			}
			for i := range p.Items {
				if !yield(p.Items[i], nil) {
					return
				}
			}
			if p.Next == "" || p.HasMore.Set && !p.HasMore.Value {
				return
			}
			if seen[p.Next] {
				yield(zero, &ProtocolError{OperationID: op, Reason: fmt.Sprintf("cursor %q was handed out before: the listing goes in circles", p.Next)})
				return
			}
			seen[p.Next] = true
			cursor = p.Next
		}
	}
}
