package runtime

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// fakeList is a listing of items served by offset and limit, with the ways
// a server can break the contract.
type fakeList struct {
	items      []int
	ignore     bool // ignore the offset
	noHasMore  bool // never report has_more, like an old server
	calls      int
	failAtCall int
	overfill   bool // one item more than asked for
	asked      []int64
}

func (f *fakeList) fetch(_ context.Context, offset, limit int64) (Page[int], error) {
	f.calls++
	f.asked = append(f.asked, limit)
	if f.failAtCall == f.calls {
		return Page[int]{}, errors.New("boom")
	}
	if f.ignore {
		offset = 0
	}
	if limit == 0 {
		limit = 10 // the server's page size
	}
	offset = min(offset, int64(len(f.items)))
	end := min(offset+limit, int64(len(f.items)))
	if f.overfill {
		end = min(offset+limit+1, int64(len(f.items)))
	}
	p := Page[int]{Items: f.items[offset:end]}
	if !f.noHasMore {
		p.HasMore = Some(end < int64(len(f.items)))
	}
	return p, nil
}

func collect(f *fakeList, start, size, total int64) ([]int, error) {
	var got []int
	for v, err := range PaginateOffset(context.Background(), "list", start, size, total, f.fetch) {
		if err != nil {
			return got, err
		}
		got = append(got, v)
	}
	return got, nil
}

func seq(from, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = from + i
	}
	return s
}

func TestPaginateAllPages(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 35} {
		f := &fakeList{items: seq(1, n)}
		got, err := collect(f, 0, 10, 0)
		if err != nil || !slices.Equal(got, seq(1, n)) {
			t.Fatalf("n=%d: got %v, %v", n, got, err)
		}
		if want := n/10 + 1; n%10 != 0 && f.calls != want {
			t.Errorf("n=%d: %d fetches, want %d", n, f.calls, want)
		}
	}
}

func TestPaginateStartAndTotal(t *testing.T) {
	f := &fakeList{items: seq(0, 100)}
	got, err := collect(f, 5, 10, 23)
	if err != nil || !slices.Equal(got, seq(5, 23)) {
		t.Fatalf("got %v, %v", got, err)
	}
	if !slices.Equal(f.asked, []int64{10, 10, 3}) {
		t.Errorf("asked for %v, want the last page to ask for what is left", f.asked)
	}
	// The server's page size, with a total.
	f = &fakeList{items: seq(0, 100)}
	if got, err := collect(f, 0, 0, 15); err != nil || len(got) != 15 {
		t.Fatalf("got %d items, %v", len(got), err)
	}
}

func TestPaginateShortPageStopsWithoutHasMore(t *testing.T) {
	f := &fakeList{items: seq(1, 25), noHasMore: true}
	got, err := collect(f, 0, 10, 0)
	if err != nil || len(got) != 25 || f.calls != 3 {
		t.Fatalf("got %d items in %d fetches, err %v", len(got), f.calls, err)
	}
}

func TestPaginateIgnoredOffsetIsProtocolError(t *testing.T) {
	f := &fakeList{items: seq(1, 30), ignore: true}
	got, err := collect(f, 0, 10, 0)
	var pe *ProtocolError
	if !errors.As(err, &pe) || len(got) != 10 || f.calls != 2 {
		t.Fatalf("got %d items in %d fetches, err %v; want 10 in 2 and a *ProtocolError", len(got), f.calls, err)
	}
}

func TestPaginateOverfullPageIsProtocolError(t *testing.T) {
	f := &fakeList{items: seq(1, 30), overfill: true}
	_, err := collect(f, 0, 10, 0)
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *ProtocolError", err)
	}
}

func TestPaginateStopsWhenCallerBreaks(t *testing.T) {
	f := &fakeList{items: seq(1, 100)}
	for v, err := range PaginateOffset(context.Background(), "list", 0, 10, 0, f.fetch) {
		if err != nil || v == 5 {
			break
		}
	}
	if f.calls != 1 {
		t.Errorf("%d fetches after an early break, want 1", f.calls)
	}
}

func TestPaginateFetchError(t *testing.T) {
	f := &fakeList{items: seq(1, 30), failAtCall: 2}
	got, err := collect(f, 0, 10, 0)
	if err == nil || err.Error() != "boom" || len(got) != 10 {
		t.Fatalf("got %d items, err %v", len(got), err)
	}
}

func TestPaginateCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fakeList{items: seq(1, 30)}
	for _, err := range PaginateOffset(ctx, "list", 0, 10, 0, f.fetch) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	}
	if f.calls != 0 {
		t.Fatalf("%d fetches after cancel", f.calls)
	}
}

func TestPaginateCursor(t *testing.T) {
	pages := map[string]Page[int]{"": {Items: []int{1, 2}, Next: "a"}, "a": {Items: []int{3}, Next: "b"}, "b": {Items: []int{4}}}
	var got []int
	for v, err := range PaginateCursor(context.Background(), "list", func(_ context.Context, c string) (Page[int], error) { return pages[c], nil }) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Fatalf("got %v", got)
	}
	circle := map[string]Page[int]{"": {Items: []int{1}, Next: "a"}, "a": {Items: []int{2}, Next: "a"}}
	var last error
	n := 0
	for _, err := range PaginateCursor(context.Background(), "list", func(_ context.Context, c string) (Page[int], error) { return circle[c], nil }) {
		if n++; n > 10 {
			t.Fatal("endless")
		}
		last = err
	}
	var pe *ProtocolError
	if !errors.As(last, &pe) {
		t.Fatalf("circling cursor ended with %v", last)
	}
}
