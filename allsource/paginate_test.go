package allsource

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/allsource-go/allsource/runtime"
)

type fakeList struct {
	items      []int
	ignore     bool // ignore the offset, like a broken server
	noHasMore  bool // never report has_more, like an old server
	calls      int
	failAtCall int
	overfill   bool
}

func (f *fakeList) fetch(_ context.Context, offset, limit int64) (Page[int], error) {
	f.calls++
	if f.failAtCall == f.calls {
		return Page[int]{}, errors.New("boom")
	}
	if f.ignore {
		offset = 0
	}
	end := min(offset+limit, int64(len(f.items)))
	if f.overfill {
		end = min(offset+limit+1, int64(len(f.items)))
	}
	if offset > int64(len(f.items)) {
		offset = int64(len(f.items))
	}
	p := Page[int]{Items: f.items[offset:end]}
	if !f.noHasMore {
		p.HasMore = runtime.Some(end < int64(len(f.items)))
	}
	return p, nil
}

func sameInt(a, b *int) bool { return *a == *b }

func collect(t *testing.T, f *fakeList, size int64) ([]int, error) {
	t.Helper()
	var got []int
	for v, err := range paginate(context.Background(), "list", pageWindow{size: size}, f.fetch, sameInt) {
		if err != nil {
			return got, err
		}
		got = append(got, v)
	}
	return got, nil
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

func TestPaginateAllPages(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 35} {
		f := &fakeList{items: seq(n)}
		got, err := collect(t, f, 10)
		if err != nil || !slices.Equal(got, seq(n)) {
			t.Fatalf("n=%d: got %v, %v", n, got, err)
		}
		if want := n/10 + 1; n%10 != 0 && f.calls != want {
			t.Errorf("n=%d: %d fetches, want %d", n, f.calls, want)
		}
	}
}

func TestPaginateShortPageStopsWithoutHasMore(t *testing.T) {
	f := &fakeList{items: seq(25), noHasMore: true}
	got, err := collect(t, f, 10)
	if err != nil || len(got) != 25 {
		t.Fatalf("got %d items, err %v", len(got), err)
	}
	if f.calls != 3 {
		t.Errorf("%d fetches, want 3", f.calls)
	}
}

func TestPaginateIgnoredOffsetIsProtocolError(t *testing.T) {
	f := &fakeList{items: seq(30), ignore: true}
	got, err := collect(t, f, 10)
	var pe *runtime.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *ProtocolError", err)
	}
	if len(got) != 10 || f.calls != 2 {
		t.Errorf("got %d items in %d fetches, want 10 in 2", len(got), f.calls)
	}
}

func TestPaginateOverfullPageIsProtocolError(t *testing.T) {
	f := &fakeList{items: seq(30), overfill: true}
	_, err := collect(t, f, 10)
	var pe *runtime.ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *ProtocolError", err)
	}
}

func TestPaginateStopsWhenCallerBreaks(t *testing.T) {
	f := &fakeList{items: seq(100)}
	for v, err := range paginate(context.Background(), "list", pageWindow{size: 10}, f.fetch, sameInt) {
		if err != nil || v == 5 {
			break
		}
	}
	if f.calls != 1 {
		t.Errorf("%d fetches after an early break, want 1", f.calls)
	}
}

func TestPaginateFetchError(t *testing.T) {
	f := &fakeList{items: seq(30), failAtCall: 2}
	got, err := collect(t, f, 10)
	if err == nil || err.Error() != "boom" || len(got) != 10 {
		t.Fatalf("got %d items, err %v", len(got), err)
	}
}

func TestFold(t *testing.T) {
	f := &fakeList{items: seq(100)}
	sum, n, err := Fold(paginate(context.Background(), "list", pageWindow{size: 7}, f.fetch, sameInt), 0, func(s, v int) (int, error) { return s + v, nil })
	if err != nil || sum != 5050 || n != 100 {
		t.Fatalf("Fold = %d, %d, %v", sum, n, err)
	}
	empty := &fakeList{}
	sum, n, err = Fold(paginate(context.Background(), "list", pageWindow{size: 7}, empty.fetch, sameInt), 0, func(s, v int) (int, error) { return s + v, nil })
	if err != nil || sum != 0 || n != 0 {
		t.Fatalf("empty Fold = %d, %d, %v", sum, n, err)
	}
	_, n, err = Fold(paginate(context.Background(), "list", pageWindow{size: 7}, f.fetch, sameInt), 0, func(s, v int) (int, error) {
		if v == 3 {
			return s, errors.New("bad item")
		}
		return s + v, nil
	})
	if err == nil || n != 2 {
		t.Fatalf("failing Fold: n=%d err=%v", n, err)
	}
}
