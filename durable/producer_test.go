package durable_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allsource-go/allsource/durable"
	"github.com/allsource-go/allsource/internal/dstest"
	"github.com/allsource-go/allsource/runtime"
)

// jsonStream creates an empty JSON stream.
func jsonStream(t *testing.T, c *durable.Client, path string) *durable.Stream {
	t.Helper()
	s := c.Stream(path).WithContentType("application/json")
	if _, err := s.Create(ctxT(t), durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// numbers reads the JSON stream's messages as integers.
func numbers(t *testing.T, s *durable.Stream) []int {
	t.Helper()
	var out []int
	for n, err := range durable.ReadJSON[int](ctxT(t), s, durable.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// checkOnce asserts that got is 0..n-1, each once, in order.
func checkOnce(t *testing.T, got []int, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("stream holds %d messages, want %d", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("message %d is %d: order broken or a duplicate", i, v)
		}
	}
}

// TestProducerExactlyOnce sends 2,000 messages in small batches, five in
// flight, while the server answers some appends with 503 and 500, drops
// connections and delays requests: every message is stored once, in order,
// and the acknowledged offset never moves backwards.
func TestProducerExactlyOnce(t *testing.T) {
	srv, c := setup(t)
	s := jsonStream(t, c, "producer/once")
	p, err := s.Producer(durable.ProducerOptions{ID: "writer-1", MaxBatchItems: 10, MaxInFlight: 5})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	var offsets []string
	var mu sync.Mutex
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			mu.Lock()
			offsets = append(offsets, p.Offset())
			mu.Unlock()
		}
	}()
	faults := []dstest.Fault{
		{Status: 503, Count: 3},
		{Status: 500, Count: 2},
		{DropConnection: true, Count: 2},
		{DelayMs: 20, JitterMs: 30, Count: 20},
	}
	for i := range n {
		if i%400 == 0 && i/400 < len(faults) {
			f := faults[i/400]
			f.Path, f.Method = "/producer/once", http.MethodPost
			srv.Inject(t, f)
		}
		if err := p.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-watched
	checkOnce(t, numbers(t, s), n)
	m, err := s.Head(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Offset() != m.NextOffset {
		t.Errorf("producer offset %q, stream tail %q", p.Offset(), m.NextOffset)
	}
	for i := 1; i < len(offsets); i++ {
		if offsets[i] < offsets[i-1] {
			t.Fatalf("offset moved backwards: %q after %q", offsets[i], offsets[i-1])
		}
	}
	if err := p.Detach(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendJSON(1); !errors.Is(err, durable.ErrProducerClosed) {
		t.Fatalf("append after detach: %v", err)
	}
}

// TestProducerConcurrentAppends: goroutines append at once, in batches of
// a few items, while another flushes: every item is stored once, and each
// goroutine's items in the order it appended them.
func TestProducerConcurrentAppends(t *testing.T) {
	_, c := setup(t)
	s := jsonStream(t, c, "producer/concurrent")
	p, err := s.Producer(durable.ProducerOptions{ID: "w", MaxBatchItems: 7, MaxBatchBytes: 300, Linger: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := p.AppendJSON(w*each + i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for range 20 {
			if err := p.Flush(ctxT(t)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	<-flushed
	if err := p.Detach(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	got := numbers(t, s)
	if len(got) != writers*each {
		t.Fatalf("stream holds %d messages, want %d", len(got), writers*each)
	}
	next := make([]int, writers)
	for _, v := range got {
		w := v / each
		if v%each != next[w] {
			t.Fatalf("writer %d: message %d after %d: order broken or a duplicate", w, v%each, next[w]-1)
		}
		next[w]++
	}
}

// TestProducerOrderUnderReordering sends one message per request, up to
// eight in flight, with random server delays so that requests overtake
// each other: the server's sequence gaps are waited out and the order is
// kept. The producer widens its window while batches arrive in order and
// narrows it after a gap, so that gaps stay few.
func TestProducerOrderUnderReordering(t *testing.T) {
	var inFlight, most, gaps atomic.Int64
	count := runtime.WithMiddleware(func(next runtime.RoundTripFunc) runtime.RoundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			resp, err := next(r)
			if err == nil && resp.StatusCode == http.StatusConflict && resp.Header.Get("Producer-Expected-Seq") != "" {
				gaps.Add(1)
			}
			return resp, err
		}
	})
	srv, c := setup(t, durable.WithRuntimeOptions(count))
	s := jsonStream(t, c, "producer/reorder")
	srv.Inject(t, dstest.Fault{Path: "/producer/reorder", Method: http.MethodPost, JitterMs: 40, DelayMs: 1, Count: 1000})
	p, err := s.Producer(durable.ProducerOptions{ID: "w", MaxBatchItems: 1, Linger: -1, MaxInFlight: 8})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if err := p.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	checkOnce(t, numbers(t, s), n)
	t.Logf("at most %d requests in flight, %d sequence gaps", most.Load(), gaps.Load())
	if most.Load() < 2 || gaps.Load() == 0 {
		t.Errorf("at most %d requests in flight, %d gaps: the window never widened, or no request overtook another", most.Load(), gaps.Load())
	}
	if g := gaps.Load(); g > 8*9/2 {
		t.Errorf("%d sequence gaps: the window did not narrow after them", g)
	}
}

// TestProducerStaleEpoch: a producer fenced off by a newer epoch of the
// same id fails with ErrStaleEpoch (and keeps failing); with AutoClaim it
// takes the next epoch and its messages land once.
func TestProducerStaleEpoch(t *testing.T) {
	_, c := setup(t)
	ctx := ctxT(t)
	s := jsonStream(t, c, "producer/epoch")
	old, _ := s.Producer(durable.ProducerOptions{ID: "w", Epoch: 0})
	if err := old.AppendJSON(0); err != nil {
		t.Fatal(err)
	}
	if err := old.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	newer, _ := s.Producer(durable.ProducerOptions{ID: "w", Epoch: 1})
	if err := newer.AppendJSON(1); err != nil {
		t.Fatal(err)
	}
	if err := newer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := old.AppendJSON(99); err != nil {
		t.Fatal(err)
	}
	err := old.Flush(ctx)
	wantKind(t, err, durable.ErrStaleEpoch, "producer/epoch")
	var de *durable.Error
	if errors.As(err, &de); de.ServerEpoch != 1 || !errors.Is(err, durable.ErrForbidden) {
		t.Fatalf("stale epoch error: server epoch %d (%v)", de.ServerEpoch, err)
	}
	if err := old.AppendJSON(100); !errors.Is(err, durable.ErrStaleEpoch) {
		t.Fatalf("append after the failure: %v, want the producer's error", err)
	}
	claim, _ := s.Producer(durable.ProducerOptions{ID: "w", Epoch: 0, AutoClaim: true, MaxBatchItems: 1, MaxInFlight: 3, Linger: -1})
	for i := 2; i < 10; i++ {
		if err := claim.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := claim.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if claim.Epoch() != 2 {
		t.Errorf("epoch after auto-claim = %d, want 2", claim.Epoch())
	}
	checkOnce(t, numbers(t, s), 10)
}

// TestProducerClose: Close appends the final message and closes the
// stream; closing again returns the same offset; another producer's close
// of the closed stream fails with ErrClosed.
func TestProducerClose(t *testing.T) {
	_, c := setup(t)
	ctx := ctxT(t)
	s := jsonStream(t, c, "producer/close")
	p, _ := s.Producer(durable.ProducerOptions{ID: "w"})
	for i := range 3 {
		if err := p.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
	}
	final, err := p.Close(ctx, []byte("3"))
	if err != nil || final == "" {
		t.Fatalf("close: %q, %v", final, err)
	}
	if again, err := p.Close(ctx, nil); err != nil || again != final {
		t.Fatalf("close again: %q, %v; want %q", again, err, final)
	}
	if err := p.AppendJSON(4); !errors.Is(err, durable.ErrProducerClosed) {
		t.Fatalf("append after close: %v", err)
	}
	checkOnce(t, numbers(t, s), 4)
	other, _ := s.Producer(durable.ProducerOptions{ID: "other"})
	_, err = other.Close(ctx, nil)
	wantKind(t, err, durable.ErrClosed, "producer/close")
	if m, err := s.Head(ctx); err != nil || !m.Closed || m.NextOffset != final {
		t.Fatalf("head: %+v, %v (final %q)", m, err, final)
	}
}

// TestProducerErrors: errors reach the caller: a missing stream, bad
// options, an item that is not JSON on a JSON stream.
func TestProducerErrors(t *testing.T) {
	_, c := setup(t)
	ctx := ctxT(t)
	p, _ := c.Stream("producer/missing").Producer(durable.ProducerOptions{ID: "w"})
	if err := p.Append([]byte("x")); err != nil {
		t.Fatal(err)
	}
	wantKind(t, p.Flush(ctx), durable.ErrNotFound, "producer/missing")
	wantKind(t, p.Err(), durable.ErrNotFound, "producer/missing")
	wantKind(t, p.Append([]byte("y")), durable.ErrNotFound, "producer/missing")
	for opt, o := range map[string]durable.ProducerOptions{
		"epoch":         {ID: "w", Epoch: -1},
		"maxBatchBytes": {ID: "w", MaxBatchBytes: -1},
		"maxBatchItems": {ID: "w", MaxBatchItems: -1},
		"ID":            {},
	} {
		_, err := c.Stream("x").Producer(o)
		if !errors.Is(err, durable.ErrInvalidArgument) || !strings.Contains(err.Error(), opt) {
			t.Errorf("%s: %v", opt, err)
		}
	}
	jp, _ := jsonStream(t, c, "producer/json").Producer(durable.ProducerOptions{ID: "w"})
	if err := jp.Append([]byte("{not json")); !errors.Is(err, durable.ErrInvalidArgument) {
		t.Fatalf("invalid JSON item: %v", err)
	}
}

// TestProducerCrashRestart: a producer crashes with a batch still on its
// way (the server holds it two seconds); the restarted producer (same id,
// next epoch) reads what landed, resumes after it, and the crashed one's
// late batch is fenced off by the server: every message once, in order.
func TestProducerCrashRestart(t *testing.T) {
	srv, c := setup(t)
	s := jsonStream(t, c, "producer/crash")
	const n = 500
	// Generation 1 sends 0..299 and flushes 0..199; its last batch
	// (200..299) is delayed and it "crashes" without waiting for it.
	gen1, _ := s.Producer(durable.ProducerOptions{ID: "app", Epoch: 0, MaxBatchItems: 100, Linger: -1})
	for i := range 200 {
		if err := gen1.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := gen1.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	srv.Inject(t, dstest.Fault{Path: "/producer/crash", Method: http.MethodPost, DelayMs: 2000, Count: 1})
	for i := 200; i < 300; i++ {
		if err := gen1.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the batch is on its way
	// Generation 2: same id, next epoch. It recovers its position from the
	// stream itself: the last message stored.
	gen2, _ := s.Producer(durable.ProducerOptions{ID: "app", Epoch: 1, MaxBatchItems: 50, Linger: -1})
	stored := numbers(t, s)
	next := 0
	if len(stored) > 0 {
		next = stored[len(stored)-1] + 1
	}
	if next != 200 {
		t.Fatalf("restart found %d messages, want the 200 flushed", next)
	}
	if err := gen2.AppendJSON(next); err != nil {
		t.Fatal(err)
	}
	if err := gen2.Flush(ctxT(t)); err != nil { // epoch 1 is now the server's
		t.Fatal(err)
	}
	for i := next + 1; i < n; i++ {
		if err := gen2.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := gen2.Detach(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// The crashed generation's late batch was refused.
	err := gen1.Flush(ctxT(t))
	wantKind(t, err, durable.ErrStaleEpoch, "producer/crash")
	checkOnce(t, numbers(t, s), n)
}

// usedEpoch returns a JSON stream on which producer "app" stored 0, 1 and 2
// in epoch 0, one batch each (seq 0 to 2), and detached.
func usedEpoch(t *testing.T, c *durable.Client, path string) *durable.Stream {
	t.Helper()
	s := jsonStream(t, c, path)
	first, _ := s.Producer(durable.ProducerOptions{ID: "app", Linger: -1})
	for i := range 3 {
		if err := first.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
		if err := first.Flush(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Detach(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestProducerEpochInUse: a producer restarted in the epoch of its previous
// run sends sequence numbers the server has seen, which it would answer as
// duplicates without storing the items. The producer reports it as
// ErrEpochInUse instead of losing them, and with AutoClaim takes the next
// epoch and stores them. The same holds for a close, with or without a
// final message.
func TestProducerEpochInUse(t *testing.T) {
	_, c := setup(t)
	s := usedEpoch(t, c, "producer/in-use")
	again, _ := s.Producer(durable.ProducerOptions{ID: "app", Linger: -1})
	if err := again.AppendJSON(3); err != nil {
		t.Fatal(err)
	}
	err := again.Flush(ctxT(t))
	wantKind(t, err, durable.ErrEpochInUse, "producer/in-use")
	var de *durable.Error
	if !errors.As(err, &de) || de.ServerEpoch != 0 {
		t.Fatalf("error %v: want server epoch 0", err)
	}
	if !errors.Is(again.Err(), durable.ErrEpochInUse) {
		t.Fatalf("producer error %v: want it kept", again.Err())
	}

	claim, _ := s.Producer(durable.ProducerOptions{ID: "app", AutoClaim: true, Linger: -1})
	for i := 3; i < 6; i++ {
		if err := claim.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := claim.Detach(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := claim.Epoch(); got != 1 {
		t.Fatalf("epoch after the claim: %d, want 1", got)
	}
	checkOnce(t, numbers(t, s), 6)

	for _, final := range [][]byte{[]byte("3"), nil} {
		path := fmt.Sprintf("producer/in-use-close-%d", len(final))
		s := usedEpoch(t, c, path)
		p, _ := s.Producer(durable.ProducerOptions{ID: "app", Linger: -1})
		_, err := p.Close(ctxT(t), final)
		wantKind(t, err, durable.ErrEpochInUse, path)
		if m, err := s.Head(ctxT(t)); err != nil || m.Closed {
			t.Fatalf("%s after the refused close: %+v, %v; want it open", path, m, err)
		}
		p, _ = s.Producer(durable.ProducerOptions{ID: "app", AutoClaim: true, Linger: -1})
		if _, err := p.Close(ctxT(t), final); err != nil {
			t.Fatalf("%s: close with AutoClaim: %v", path, err)
		}
		if m, err := s.Head(ctxT(t)); err != nil || !m.Closed {
			t.Fatalf("%s after the close: %+v, %v; want it closed", path, m, err)
		}
		checkOnce(t, numbers(t, s), 3+len(final))
	}
}

// lostAnswer passes requests on, but loses the answer to the first POST
// with producer headers after the server handled it, as a dropped
// connection would.
type lostAnswer struct {
	next http.RoundTripper
	lost atomic.Bool
}

func (l *lostAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && r.Header.Get("Producer-Id") != "" && l.lost.CompareAndSwap(false, true) {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, io.ErrUnexpectedEOF
	}
	return resp, err
}

// TestProducerOwnDuplicate: a batch stored whose answer was lost is sent
// again and answered as a duplicate; that is the batch's own, and the
// producer goes on (no ErrEpochInUse), with every item stored once.
func TestProducerOwnDuplicate(t *testing.T) {
	la := &lostAnswer{next: &http.Transport{}}
	_, c := setup(t, durable.WithHTTPClient(&http.Client{Transport: la}))
	s := jsonStream(t, c, "producer/own-duplicate")
	p, _ := s.Producer(durable.ProducerOptions{ID: "app", Linger: -1})
	for i := range 3 {
		if err := p.AppendJSON(i); err != nil {
			t.Fatal(err)
		}
		if err := p.Flush(ctxT(t)); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	if _, err := p.Close(ctxT(t), nil); err != nil {
		t.Fatal(err)
	}
	if !la.lost.Load() {
		t.Fatal("no answer was lost")
	}
	checkOnce(t, numbers(t, s), 3)
}

// TestProducerClaimGivesUp: a server that refuses every epoch as stale
// (here an in-process handler: the reference server cannot be made to)
// would keep an AutoClaim producer taking newer epochs without end. It
// gives up after 3 claims in a row with none of its batches acknowledged,
// with the stale-epoch error.
func TestProducerClaimGivesUp(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Producer-Epoch", "5")
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	c, err := durable.New(srv.URL, durable.WithRetry(fastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Stream("fenced").Producer(durable.ProducerOptions{ID: "app", AutoClaim: true})
	if err := p.Append([]byte("x")); err != nil {
		t.Fatal(err)
	}
	err = p.Flush(ctxT(t))
	wantKind(t, err, durable.ErrStaleEpoch, "fenced")
	if !strings.Contains(err.Error(), "gave up after taking 3 epochs") {
		t.Fatalf("error %q does not say it gave up", err)
	}
	if n := requests.Load(); n != 4 {
		t.Fatalf("%d requests, want 4 (the first epoch and 3 claimed)", n)
	}
	if got := p.Epoch(); got != 8 {
		t.Fatalf("epoch %d, want 8 (5+1, then 7, 8)", got)
	}
}

// TestProducerCloseTakesLateItems: items appended while Close or Detach
// flushes are sent before the close, or refused with ErrProducerClosed;
// none is accepted and then dropped.
func TestProducerCloseTakesLateItems(t *testing.T) {
	_, c := setup(t)
	for round := range 20 {
		s := jsonStream(t, c, fmt.Sprintf("producer/late-%d", round))
		p, _ := s.Producer(durable.ProducerOptions{ID: "app", Linger: time.Hour})
		accepted := make(chan int)
		go func() {
			n := 0
			for p.AppendJSON(n) == nil {
				n++
			}
			accepted <- n
		}()
		time.Sleep(time.Millisecond)
		var err error
		if round%2 == 0 {
			_, err = p.Close(ctxT(t), nil)
		} else {
			err = p.Detach(ctxT(t))
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		checkOnce(t, numbers(t, s), <-accepted)
	}
}
