package allsource_test

// One test per gotcha of reference §12, against the embedded server.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/runtime"
)

func count(t *testing.T, c allsource.CoreClient, entity string) int64 {
	t.Helper()
	r, err := c.Query(context.Background(), allsource.Query{EntityID: entity})
	if err != nil {
		t.Fatal(err)
	}
	return r.Count
}

// §12.1: error bodies are heterogeneous; each arrives as a typed error.
func TestGotcha1_ErrorBodies(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	// A 400 with {"error": "..."}: bypass the client-side check to reach Core.
	_, err := c.API().IngestEvent(ctx, core.IngestEventRequest{EventType: "Bad Type", EntityID: "e", Payload: []byte(`{}`)})
	var apiErr *runtime.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Message == "" {
		t.Fatalf("bad event type: %v", err)
	}
	// The same argument through the SDK never leaves the process.
	if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "Bad Type", EntityID: "e"}); !errors.Is(err, allsource.ErrInvalidArgument) {
		t.Fatalf("SDK ingest of a bad type = %v", err)
	}
	// 409 version_conflict with both versions.
	ingestN(t, c, "doc.saved", "doc", 2)
	_, err = c.Ingest(ctx, allsource.NewEvent{Type: "doc.saved", EntityID: "doc", ExpectedVersion: runtime.Some[int64](1)})
	var vc *allsource.VersionConflictError
	if !errors.Is(err, allsource.ErrVersionConflict) || !errors.As(err, &vc) || vc.Expected != 1 || vc.Current != 2 {
		t.Fatalf("version conflict = %v (%+v)", err, vc)
	}
	// Plain-text 401.
	bad, _ := allsource.NewCoreClient(srv.URL, "ask_not-a-key")
	_, err = bad.Query(ctx, allsource.Query{})
	if !errors.Is(err, runtime.ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.Message == "" {
		t.Fatalf("401 = %v", err)
	}
}

// §12.2: an ambiguous ingest failure is never retried (no duplicate), a
// refused one is.
func TestGotcha2_IngestRetriesNeverDuplicate(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv, allsource.WithRuntimeOptions(runtime.WithRetry(runtime.RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})))
	ctx := context.Background()
	srv.Inject(coretest.Core, "ingestEvent", 1, coretest.Fault{Status: 502})
	if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "pay.sent", EntityID: "p1", Payload: 1}); err == nil {
		t.Fatal("a 502 on ingest was retried: it may have been stored")
	}
	srv.Inject(coretest.Core, "ingestEvent", 1, coretest.Fault{CutBody: true})
	if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "pay.sent", EntityID: "p2", Payload: 1}); err == nil {
		t.Fatal("an ingest whose response was cut was retried")
	}
	if n := count(t, c, "p2"); n != 1 {
		t.Fatalf("p2 stored %d times, want 1 (cut response: stored once, not retried)", n)
	}
	// Core's 503 carries Retry-After: 1; a cap of 2 s lets the runtime wait it.
	patient := newCore(t, srv, allsource.WithRuntimeOptions(runtime.WithRetry(runtime.RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Second})))
	srv.Inject(coretest.Core, "ingestEvent", 1, coretest.Fault{Status: 503})
	if _, err := patient.Ingest(ctx, allsource.NewEvent{Type: "pay.sent", EntityID: "p3", Payload: 1}); err != nil {
		t.Fatalf("503s (refused, never processed) should be retried: %v", err)
	}
	if n := count(t, c, "p3"); n != 1 {
		t.Fatalf("p3 stored %d times, want 1", n)
	}
}

// §12.3: Retry-After on 429 is reported, and honoured when it is within
// the retry cap (and not retried early when it is beyond it).
func TestGotcha3_RetryAfterHonoured(t *testing.T) {
	// 30 a minute: the next token is ~2 s away, so Retry-After is 1 (Core
	// truncates it, and leaves it out below one second).
	srv := newServer(t, coretest.WithRateLimit(30, 1))
	ctx := context.Background()
	impatient := newCore(t, srv, allsource.WithRuntimeOptions(runtime.WithRetry(runtime.RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond})))
	if _, err := impatient.Query(ctx, allsource.Query{}); err != nil {
		t.Fatal(err)
	}
	var resp *runtime.APIError
	_, err := impatient.Query(ctx, allsource.Query{})
	if !errors.Is(err, runtime.ErrRateLimited) || !errors.As(err, &resp) {
		t.Fatalf("second call = %v, want rate limited", err)
	}
	if d, ok := resp.RetryAfter(); !ok || d < time.Second {
		t.Fatalf("RetryAfter = %v, %v; want the server's Retry-After of a second or more", d, ok)
	}
	srv2 := newServer(t)
	srv2.Inject(coretest.Core, "queryEvents", 1, coretest.Fault{Status: 429}) // plain-text 429 with Retry-After: 1
	patient := newCore(t, srv2, allsource.WithRuntimeOptions(runtime.WithRetry(runtime.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond, MaxDelay: 3 * time.Second})))
	start := time.Now()
	if _, err := patient.Query(ctx, allsource.Query{}); err != nil {
		t.Fatalf("with Retry-After within the cap the call should succeed: %v", err)
	}
	// The base delay is 1 ms: only Retry-After explains a wait this long.
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Fatalf("succeeded after %v: the Retry-After wait was not honoured", waited)
	}
}

// §12.4: the cursor cannot be rewound by acking a lower position.
func TestGotcha4_CursorOnlyMovesForward(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	ingestN(t, c, "e.x", "e", 5)
	if _, err := c.RegisterConsumer(ctx, "fwd", nil); err != nil {
		t.Fatal(err)
	}
	if pos, ok, err := c.LoadCheckpoint(ctx, "fwd"); err != nil || ok {
		t.Fatalf("fresh checkpoint = %d, %v, %v", pos, ok, err)
	}
	if err := c.SaveCheckpoint(ctx, "fwd", 4); err != nil {
		t.Fatal(err)
	}
	if err := c.SaveCheckpoint(ctx, "fwd", 2); err != nil {
		t.Fatal(err)
	}
	if pos, ok, err := c.LoadCheckpoint(ctx, "fwd"); err != nil || !ok || pos != 4 {
		t.Fatalf("checkpoint = %d, %v, %v; want 4", pos, ok, err)
	}
	if err := c.AckConsumer(ctx, "fwd", 99); !errors.As(err, new(*runtime.APIError)) {
		t.Fatalf("ack beyond the newest event = %v, want a 400", err)
	}
	if err := c.AckConsumer(ctx, "fwd", 0); !errors.Is(err, allsource.ErrInvalidArgument) {
		t.Fatalf("ack 0 = %v", err)
	}
}

// §12.5: positions are 1-based global indexes; polling does not advance.
func TestGotcha5_PositionsAreGlobalAndPollDoesNotAdvance(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	ingestN(t, c, "a.x", "a", 2)
	ingestN(t, c, "b.x", "b", 2)
	if _, err := c.RegisterConsumer(ctx, "bs", []string{"b.*"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		evs, err := c.PollConsumer(ctx, "bs", 10)
		if err != nil || len(evs) != 2 || evs[0].Position != 3 || evs[1].Position != 4 || evs[0].Event.EntityID != "b" {
			t.Fatalf("poll = %+v, %v", evs, err)
		}
	}
	if err := c.AckConsumer(ctx, "bs", 3); err != nil {
		t.Fatal(err)
	}
	evs, err := c.PollConsumer(ctx, "bs", 10)
	if err != nil || len(evs) != 1 || evs[0].Position != 4 {
		t.Fatalf("poll after ack = %+v, %v", evs, err)
	}
}

// §12.8: register before connecting, or the stream replays every type.
func TestGotcha8_RegisterBeforeStreaming(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	ingestN(t, c, "a.x", "a", 1)
	ingestN(t, c, "b.x", "b", 1)
	if _, err := c.RegisterConsumer(ctx, "only-b", []string{"b.*"}); err != nil {
		t.Fatal(err)
	}
	cons, err := c.Consumer(ctx, "unregistered")
	if err != nil || len(cons.EventTypeFilters) != 0 {
		t.Fatalf("get-or-create = %+v, %v", cons, err)
	}
	evs, err := c.PollConsumer(ctx, "only-b", 0)
	if err != nil || len(evs) != 1 || evs[0].Event.EventType != "b.x" {
		t.Fatalf("registered consumer polls %+v, %v", evs, err)
	}
	all, err := c.PollConsumer(ctx, "unregistered", 0)
	if err != nil || len(all) != 2 {
		t.Fatalf("unregistered consumer polls %d events, want every type (2): %v", len(all), err)
	}
}

// §12.9, §6: the Query Service does not serve entity listing or every
// filter; the QueryClient refuses rather than drop a filter silently.
func TestGotcha9_QueryServiceSurface(t *testing.T) {
	srv := newServer(t)
	q := newQuery(t, srv)
	ctx := context.Background()
	for _, bad := range []allsource.Query{
		{EventTypePrefix: "order."}, {PayloadFilter: map[string]any{"a": 1}}, {Order: allsource.Descending}, {ExcludeEventTypePrefixes: []string{"x."}},
	} {
		if _, err := q.Query(ctx, bad); !errors.Is(err, allsource.ErrInvalidArgument) {
			t.Errorf("QueryClient.Query(%+v) = %v, want ErrInvalidArgument", bad, err)
		}
	}
}

// §12.10: Core has no default limit; the Query Service defaults to 100;
// Events pages through everything on both.
func TestGotcha10_Limits(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	var batch []allsource.NewEvent
	for range 150 {
		batch = append(batch, allsource.NewEvent{Type: "m.x", EntityID: "m", Payload: 0})
	}
	if _, err := c.IngestBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Query(ctx, allsource.Query{EntityID: "m"}); err != nil || len(r.Events) != 150 {
		t.Fatalf("core without limit: %d events, %v", len(r.Events), err)
	}
	q := newQuery(t, srv)
	if r, err := q.Query(ctx, allsource.Query{EntityID: "m"}); err != nil || len(r.Events) != 100 || !r.HasMore {
		t.Fatalf("query service without limit: %d events, %v", len(r.Events), err)
	}
	n := 0
	for _, err := range q.Events(ctx, allsource.Query{EntityID: "m"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 150 {
		t.Fatalf("QueryClient.Events yielded %d, want 150", n)
	}
}

// §12.11: a batch is not atomic; the items before a failing one are stored.
func TestGotcha11_BatchNotAtomic(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	_, err := c.IngestBatch(ctx, []allsource.NewEvent{
		{Type: "s.x", EntityID: "s", Payload: 1},
		{Type: "s.x", EntityID: "s", Payload: 2, ExpectedVersion: runtime.Some[int64](7)},
		{Type: "s.x", EntityID: "s", Payload: 3},
	})
	if !errors.Is(err, allsource.ErrVersionConflict) {
		t.Fatalf("err = %v, want a version conflict", err)
	}
	if n := count(t, c, "s"); n != 1 {
		t.Fatalf("%d stored, want the 1 item before the failing one", n)
	}
}

// §12.12: a follower refuses writes with 409 read_only.
func TestGotcha12_FollowerReadOnly(t *testing.T) {
	srv := newServer(t, coretest.WithFollower())
	c := newCore(t, srv)
	_, err := c.Ingest(context.Background(), allsource.NewEvent{Type: "a.b", EntityID: "e", Payload: 1})
	if !errors.Is(err, allsource.ErrReadOnly) || errors.Is(err, allsource.ErrVersionConflict) {
		t.Fatalf("err = %v, want allsource.ErrReadOnly", err)
	}
}
