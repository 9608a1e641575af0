package allsource_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/runtime"
)

// requestLog records the requests a client sends, through middleware.
type requestLog struct {
	mu   sync.Mutex
	reqs []loggedRequest
}

type loggedRequest struct {
	method, path, query string
	size                int64
}

func (l *requestLog) option() allsource.Option {
	return allsource.WithMiddleware(func(next runtime.RoundTripFunc) runtime.RoundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			l.mu.Lock()
			l.reqs = append(l.reqs, loggedRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.ContentLength})
			l.mu.Unlock()
			return next(r)
		}
	})
}

func (l *requestLog) all() []loggedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]loggedRequest(nil), l.reqs...)
}

func readings(n, padding int, entity string) []allsource.NewEvent {
	evs := make([]allsource.NewEvent, n)
	for i := range evs {
		evs[i] = allsource.NewEvent{Type: "sensor.reading", EntityID: entity,
			Payload: map[string]any{"i": i, "pad": strings.Repeat("p", padding)}}
	}
	return evs
}

// IngestBatch splits its input under the byte budget, keeps the order and
// reports the whole batch as one call would.
func TestIngestBatchSplitsUnderBudget(t *testing.T) {
	srv := newServer(t)
	var log requestLog
	const budget = 4096
	c := newCore(t, srv, allsource.WithBatchBytes(budget), log.option())
	ctx := context.Background()
	evs := readings(60, 300, "s-1")
	res, err := c.IngestBatch(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 60 || res.Ingested != 60 || len(res.Events) != 60 {
		t.Fatalf("result total %d ingested %d events %d, want 60", res.Total, res.Ingested, len(res.Events))
	}
	for i, e := range res.Events {
		if e.Version != int64(i+1) {
			t.Fatalf("event %d has version %d: order not kept", i, e.Version)
		}
	}
	reqs := log.all()
	if len(reqs) < 2 {
		t.Fatalf("%d requests, want the batch split", len(reqs))
	}
	for _, r := range reqs {
		if r.size <= 0 || r.size > budget {
			t.Errorf("request of %d bytes, budget %d", r.size, budget)
		}
	}
	i := 0
	for e, err := range c.EntityEvents(ctx, "s-1") {
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ I int }
		if p, err = allsource.DecodePayload[struct{ I int }](&e); err != nil || p.I != i {
			t.Fatalf("stored event %d has i %d (%v)", i, p.I, err)
		}
		i++
	}
	if i != 60 {
		t.Fatalf("%d events stored", i)
	}
}

// The default budget keeps batches under Core's 2 MiB body limit.
func TestIngestBatchDefaultBudgetFitsCore(t *testing.T) {
	srv := newServer(t)
	var log requestLog
	c := newCore(t, srv, log.option())
	res, err := c.IngestBatch(context.Background(), readings(30, 100<<10, "big")) // about 3 MiB
	if err != nil {
		t.Fatal(err)
	}
	if res.Ingested != 30 || srv.EventCount() != 30 {
		t.Fatalf("ingested %d, stored %d", res.Ingested, srv.EventCount())
	}
	if n := len(log.all()); n < 2 {
		t.Fatalf("%d requests for about 3 MiB", n)
	}
}

// One event larger than the budget is an argument error before anything
// is sent.
func TestIngestBatchOversizedEventRefused(t *testing.T) {
	srv := newServer(t)
	var log requestLog
	c := newCore(t, srv, allsource.WithBatchBytes(4096), log.option())
	evs := readings(3, 10, "e")
	evs[2].Payload = map[string]any{"pad": strings.Repeat("x", 5000)}
	_, err := c.IngestBatch(context.Background(), evs)
	var ae *allsource.ArgumentError
	if !errors.Is(err, allsource.ErrInvalidArgument) || !errors.As(err, &ae) || ae.Field != "events[2]" {
		t.Fatalf("err = %v, want an argument error for events[2]", err)
	}
	if n := len(log.all()); n != 0 || srv.EventCount() != 0 {
		t.Fatalf("%d requests sent, %d events stored", n, srv.EventCount())
	}
	if _, err := c.IngestBatch(context.Background(), readings(1, 10, "e"), allsource.WithBatchBytes(10)); !errors.Is(err, allsource.ErrInvalidArgument) {
		t.Fatalf("budget of 10 bytes: %v", err)
	}
}

// A later request of a split batch that fails reports the events stored by
// the earlier ones and the server's error.
func TestIngestBatchLaterRequestFails(t *testing.T) {
	srv := newServer(t)
	var log requestLog
	c := newCore(t, srv, allsource.WithBatchBytes(2048), log.option())
	evs := readings(40, 200, "s")
	evs[35].ExpectedVersion = runtime.Some[int64](1) // the entity is at 35 by then
	res, err := c.IngestBatch(context.Background(), evs)
	var be *allsource.BatchError
	if !errors.As(err, &be) || !errors.Is(err, allsource.ErrVersionConflict) {
		t.Fatalf("err = %v, want a *BatchError matching allsource.ErrVersionConflict", err)
	}
	if be.Stored == 0 || be.Start != be.Stored || be.End <= 35 || be.Start > 35 {
		t.Fatalf("BatchError %+v", be)
	}
	if res == nil || len(res.Events) != be.Stored || res.Ingested != int64(be.Stored) {
		t.Fatalf("result %+v, want the %d events stored before", res, be.Stored)
	}
	if got := srv.EventCount(); got != 35 {
		t.Fatalf("%d events stored, want 35 (non-atomic within the failing request)", got)
	}
}

// PutProjectionStates splits like IngestBatch, in order, and refuses one
// state over the budget before sending anything.
func TestPutProjectionStatesSplits(t *testing.T) {
	srv := newServer(t)
	var log requestLog
	c := newCore(t, srv, allsource.WithBatchBytes(1024), log.option())
	ctx := context.Background()
	states := make([]allsource.EntityState, 30)
	for i := range states {
		states[i] = allsource.EntityState{EntityID: fmt.Sprintf("e%02d", i), State: map[string]any{"n": i, "pad": strings.Repeat("s", 100)}}
	}
	// The same entity twice: the later state wins, as in one request.
	states = append(states, allsource.EntityState{EntityID: "e00", State: json.RawMessage(`{"n":100}`)})
	res, err := c.PutProjectionStates(ctx, "p", states)
	if err != nil {
		t.Fatal(err)
	}
	if res.Saved != 31 || res.Total != 31 || res.Projection != "p" {
		t.Fatalf("result %+v", res)
	}
	if n := len(log.all()); n < 3 {
		t.Fatalf("%d requests", n)
	}
	got, found, err := allsource.GetProjectionState[struct{ N int }](ctx, c, "p", "e00")
	if err != nil || !found || got.N != 100 {
		t.Fatalf("e00 = %+v, %v; want the later state", got, err)
	}
	before := len(log.all())
	_, err = c.PutProjectionStates(ctx, "p", []allsource.EntityState{{EntityID: "big", State: strings.Repeat("x", 2000)}})
	if !errors.Is(err, allsource.ErrInvalidArgument) || len(log.all()) != before {
		t.Fatalf("oversized state: %v, %d requests sent", err, len(log.all())-before)
	}
}

// Ids sent in a request path refuse "." and "..", which would reach another
// endpoint without an error.
func TestPathSegmentsDotRefused(t *testing.T) {
	srv := newServer(t)
	var log requestLog
	c := newCore(t, srv, log.option())
	ctx := context.Background()
	calls := map[string]func(string) error{
		"ProjectionState name":   func(v string) error { _, _, err := c.ProjectionState(ctx, v, "e"); return err },
		"ProjectionState entity": func(v string) error { _, _, err := c.ProjectionState(ctx, "p", v); return err },
		"PutProjectionState":     func(v string) error { return c.PutProjectionState(ctx, "p", v, 1) },
		"PutProjectionStates":    func(v string) error { _, err := c.PutProjectionStates(ctx, v, nil); return err },
		"ProjectionStates":       func(v string) error { _, err := c.ProjectionStates(ctx, v, []string{"e"}); return err },
		"ProjectionStateSummary": func(v string) error { _, err := c.ProjectionStateSummary(ctx, v, allsource.StateQuery{}); return err },
		"RegisterConsumer":       func(v string) error { _, err := c.RegisterConsumer(ctx, v, nil); return err },
		"Consumer":               func(v string) error { _, err := c.Consumer(ctx, v); return err },
		"PollConsumer":           func(v string) error { _, err := c.PollConsumer(ctx, v, 0); return err },
		"AckConsumer":            func(v string) error { return c.AckConsumer(ctx, v, 1) },
		"LoadCheckpoint":         func(v string) error { _, _, err := c.LoadCheckpoint(ctx, v); return err },
	}
	for name, call := range calls {
		for _, v := range []string{".", ".."} {
			if err := call(v); !errors.Is(err, allsource.ErrInvalidArgument) {
				t.Errorf("%s(%q) = %v, want ErrInvalidArgument", name, v, err)
			}
		}
	}
	if n := len(log.all()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	// Dots inside an id are fine.
	if err := c.PutProjectionState(ctx, "p.v2", "a..b", 1); err != nil {
		t.Fatal(err)
	}
}

// The projection-state summary pages in entity id order, honours the
// prefix, Offset and Limit, and has the guard Events has.
func TestProjectionStateSummaries(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv, allsource.WithPageSize(7))
	ctx := context.Background()
	var states []allsource.EntityState
	for i := 24; i >= 0; i-- {
		states = append(states, allsource.EntityState{EntityID: fmt.Sprintf("a-%02d", i), State: i})
	}
	states = append(states, allsource.EntityState{EntityID: "b-00", State: 0})
	if _, err := c.PutProjectionStates(ctx, "p", states); err != nil {
		t.Fatal(err)
	}
	collect := func(q allsource.StateQuery, opts ...allsource.Option) ([]string, error) {
		var ids []string
		for st, err := range c.ProjectionStateSummaries(ctx, "p", q, opts...) {
			if err != nil {
				return ids, err
			}
			ids = append(ids, st.EntityID)
		}
		return ids, nil
	}
	ids, err := collect(allsource.StateQuery{EntityIDPrefix: "a-"})
	if err != nil || len(ids) != 25 || ids[0] != "a-00" || ids[24] != "a-24" {
		t.Fatalf("all: %v, %v", ids, err)
	}
	ids, err = collect(allsource.StateQuery{EntityIDPrefix: "a-", Offset: 3, Limit: 10})
	if err != nil || len(ids) != 10 || ids[0] != "a-03" || ids[9] != "a-12" {
		t.Fatalf("offset 3 limit 10: %v, %v", ids, err)
	}
	page, err := c.ProjectionStateSummary(ctx, "p", allsource.StateQuery{Limit: 2})
	if err != nil || page.Count != 2 || page.Total != 26 || !page.HasMore {
		t.Fatalf("one page: %+v, %v", page, err)
	}
	// A server that ignores limit: the guard stops the listing.
	dropLimit := allsource.WithMiddleware(func(next runtime.RoundTripFunc) runtime.RoundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			q := r.URL.Query()
			q.Del("limit")
			r.URL.RawQuery = q.Encode()
			return next(r)
		}
	})
	_, err = collect(allsource.StateQuery{}, dropLimit)
	var pe *runtime.ProtocolError
	if !errors.As(err, &pe) || !errors.Is(err, runtime.ErrProtocol) {
		t.Fatalf("server ignoring limit: %v, want *runtime.ProtocolError", err)
	}
}
