package projection

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/gen/common"
	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/runtime"
)

const testKey = "test-key"

// agg is the per-entity state of the test projection. The reducer checks
// every version against the last one applied, so an event applied twice
// (or out of order) shows up in Dups and a skipped one in Gaps.
type agg struct {
	Count int64 `json:"count"`
	Last  int64 `json:"last"`
	Sum   int64 `json:"sum"`
	Dups  int64 `json:"dups,omitempty"`
	Gaps  int64 `json:"gaps,omitempty"`
}

type aggState map[string]*agg

type payload struct {
	N int64 `json:"n"`
}

func aggReducer(s aggState, ev Event) (aggState, error) {
	p, err := Decode[payload](ev)
	if err != nil {
		return s, err
	}
	if s == nil {
		s = aggState{}
	}
	a := s[ev.EntityID]
	if a == nil {
		a = &agg{}
		s[ev.EntityID] = a
	}
	switch {
	case ev.Version <= a.Last:
		a.Dups++
		return s, nil
	case ev.Version > a.Last+1:
		a.Gaps += ev.Version - a.Last - 1
	}
	a.Count++
	a.Last = ev.Version
	a.Sum += p.N
	return s, nil
}

func newAggState() aggState { return aggState{} }

// truth is the fold from scratch of what a test ingested.
type truth struct {
	mu sync.Mutex
	m  map[string]*agg
	n  int64
}

func newTruth() *truth { return &truth{m: map[string]*agg{}} }

func (tr *truth) add(entity string, n int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	a := tr.m[entity]
	if a == nil {
		a = &agg{}
		tr.m[entity] = a
	}
	a.Count++
	a.Last++
	a.Sum += n
	tr.n++
}

func (tr *truth) total() int64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.n
}

// compare returns the events lost and applied twice, and a description of
// the first difference between got and the truth ("" when equal).
func (tr *truth) compare(got aggState) (lost, twice int64, diff string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	keys := make([]string, 0, len(tr.m))
	for k := range tr.m {
		keys = append(keys, k)
	}
	for k := range got {
		if tr.m[k] == nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		want, have := tr.m[k], got[k]
		if want == nil {
			want = &agg{}
		}
		if have == nil {
			have = &agg{}
		}
		twice += have.Dups
		lost += have.Gaps + max(0, want.Last-have.Last)
		if diff == "" && (*want != agg{Count: have.Count, Last: have.Last, Sum: have.Sum}) {
			diff = fmt.Sprintf("entity %s: got %+v, want %+v", k, *have, *want)
		}
	}
	return lost, twice, diff
}

type fixture struct {
	t     testing.TB
	srv   *coretest.Server
	c     allsource.CoreClient // the worker's client
	w     *core.Client         // the client that writes events
	truth *truth
	seq   int64
	// prefix starts the entity ids ingest writes.
	prefix string

	errMu sync.Mutex
	errs  []error // what the workers' OnError received
}

// onError records an error a worker reports.
func (f *fixture) onError(err error) {
	f.errMu.Lock()
	defer f.errMu.Unlock()
	f.errs = append(f.errs, err)
}

// lastErr returns the last error a worker reported, or nil.
func (f *fixture) lastErr() error {
	f.errMu.Lock()
	defer f.errMu.Unlock()
	if len(f.errs) == 0 {
		return nil
	}
	return f.errs[len(f.errs)-1]
}

// pushedState reads what a worker pushed for entity to Core's projection
// store under projection.
func (f *fixture) pushedState(projection, entity string) (json.RawMessage, bool, error) {
	return f.c.ProjectionState(context.Background(), projection, entity)
}

func newFixture(t testing.TB, opts ...coretest.Option) *fixture {
	t.Helper()
	srv := coretest.NewTestServer(t, append([]coretest.Option{coretest.WithAPIKeys(testKey)}, opts...)...)
	return &fixture{t: t, srv: srv, c: newSDKClient(t, srv.URL), w: newClient(t, srv.URL), truth: newTruth()}
}

// newSDKClient is newClient for the SDK.
func newSDKClient(t testing.TB, url string) allsource.CoreClient {
	t.Helper()
	c, err := allsource.NewCoreClient(url, testKey, allsource.WithRuntimeOptions(testRuntimeOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testRuntimeOptions() []runtime.Option {
	return []runtime.Option{
		runtime.WithRetry(runtime.RetryPolicy{MaxRetries: 0}),
		runtime.WithCircuitBreaker(runtime.NewCircuitBreaker(runtime.CircuitBreakerSettings{Cooldown: 20 * time.Millisecond})),
	}
}

// newClient returns a client that leaves retrying to the worker and whose
// circuit breaker cools down quickly, so that fault tests run fast.
func newClient(t testing.TB, url string) *core.Client {
	t.Helper()
	c, err := core.NewClient(url, append(testRuntimeOptions(), core.WithBearerAuth(testKey))...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ingest writes n events spread over entities, in batches.
func (f *fixture) ingest(n int, entities int, typ string) {
	f.t.Helper()
	if err := f.tryIngest(n, entities, typ); err != nil {
		f.t.Fatal(err)
	}
}

// tryIngest is ingest for any goroutine.
func (f *fixture) tryIngest(n int, entities int, typ string) error {
	const batch = 500
	for done := 0; done < n; {
		k := min(batch, n-done)
		req := core.IngestEventsRequest{Events: make([]core.IngestEventRequest, k)}
		ents := make([]string, k)
		ns := make([]int64, k)
		for i := range k {
			f.seq++
			ents[i] = fmt.Sprintf("%se-%d", f.prefix, f.seq%int64(entities))
			ns[i] = f.seq
			req.Events[i] = core.IngestEventRequest{
				EventType: common.EventType(typ),
				EntityID:  common.EntityID(ents[i]),
				Payload:   json.RawMessage(fmt.Sprintf(`{"n":%d}`, f.seq)),
			}
		}
		if _, err := f.w.IngestEvents(context.Background(), req); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		for i := range k {
			f.truth.add(ents[i], ns[i])
		}
		done += k
	}
	return nil
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() && os.Getenv("PROJECTION_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (f *fixture) config(name string, store SnapshotStore) Config[aggState] {
	return Config[aggState]{
		Name:             name,
		EventTypes:       []string{"test.*"},
		Reducer:          aggReducer,
		Initial:          newAggState,
		Store:            store,
		CheckpointEvents: 100,
		CheckpointPeriod: 50 * time.Millisecond,
		MinBackoff:       5 * time.Millisecond,
		MaxBackoff:       50 * time.Millisecond,
		StallTimeout:     500 * time.Millisecond,
		OnError:          f.onError,
		Logger:           testLogger(f.t),
	}
}

func (f *fixture) start(cfg Config[aggState]) *Handle[aggState] {
	f.t.Helper()
	h, err := Start(context.Background(), f.c, cfg)
	if err != nil {
		f.t.Fatalf("Start: %v", err)
	}
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Stop(ctx)
	})
	return h
}

func waitCaughtUp[S any](t testing.TB, h *Handle[S]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.WaitCaughtUp(ctx); err != nil {
		t.Fatalf("WaitCaughtUp: %v (stats %+v)", err, h.Stats())
	}
}

// waitState waits until the worker's state equals the truth.
func (f *fixture) waitState(h *Handle[aggState]) {
	f.t.Helper()
	f.waitStateFor(h, 30*time.Second)
}

// waitStateFor is waitState with a deadline.
func (f *fixture) waitStateFor(h *Handle[aggState], d time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var diff string
		var lost, twice int64
		h.Read(func(s aggState) { lost, twice, diff = f.truth.compare(s) })
		if diff == "" {
			return
		}
		if twice > 0 {
			f.t.Fatalf("events applied twice: %d (%s)", twice, diff)
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("state never matched the fold from scratch: %s (lost %d); stats %+v, last error %v", diff, lost, h.Stats(), f.lastErr())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) cursor(name string) int64 {
	f.t.Helper()
	res, err := f.w.GetConsumer(context.Background(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	v, _ := res.Body.CursorPosition.Get()
	return v
}

func stop[S any](t testing.TB, h *Handle[S]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func withBatching() coretest.Option { return coretest.WithLiveBatching(2*time.Millisecond, 50) }

// untilTrue returns a channel closed once cond holds, polled every
// millisecond until the test ends.
func untilTrue(t testing.TB, cond func() bool) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		for !cond() {
			select {
			case <-t.Context().Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
		close(ch)
	}()
	return ch
}

// eventually waits up to 10 s for cond, then fails with msg().
func eventually(t testing.TB, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
