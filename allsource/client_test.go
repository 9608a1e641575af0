package allsource_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/runtime"
)

const testKey = "ask_test-key-0123456789"

func newServer(t *testing.T, opts ...coretest.Option) *coretest.Server {
	t.Helper()
	return coretest.NewTestServer(t, append([]coretest.Option{coretest.WithAPIKeys(testKey)}, opts...)...)
}

func newCore(t *testing.T, srv *coretest.Server, opts ...allsource.Option) allsource.CoreClient {
	t.Helper()
	c, err := allsource.NewCoreClient(srv.URL, testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newQuery(t *testing.T, srv *coretest.Server) allsource.QueryClient {
	t.Helper()
	c, err := allsource.NewQueryClient(srv.QueryURL(), testKey)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHealthOfBothClients(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	h, err := newCore(t, srv).Health(ctx)
	if err != nil || h.Status != "healthy" {
		t.Fatalf("core health = %+v, %v", h, err)
	}
	qh, err := newQuery(t, srv).Health(ctx)
	if err != nil || qh.Status != "healthy" {
		t.Fatalf("query health = %+v, %v", qh, err)
	}
}

func TestIngestAndQuerySingleEvent(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	res, err := c.Ingest(ctx, allsource.NewEvent{
		Type: "user.created", EntityID: "user-1",
		Payload:  map[string]any{"name": "Ada"},
		Metadata: map[string]any{"source": "test", "trace": "t-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.EventID == "" || res.Timestamp.IsZero() || res.Version != 1 {
		t.Fatalf("ingest result = %+v", res)
	}
	r, err := c.Query(ctx, allsource.Query{EntityID: "user-1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Count != 1 || len(r.Events) != 1 {
		t.Fatalf("count = %d, events = %d", r.Count, len(r.Events))
	}
	e := r.Events[0]
	if e.EntityID != "user-1" || e.EventType != "user.created" || e.ID != res.EventID {
		t.Fatalf("event = %+v", e)
	}
	p, err := allsource.DecodePayload[struct{ Name string }](&e)
	if err != nil || p.Name != "Ada" {
		t.Fatalf("payload = %+v, %v", p, err)
	}
	var meta map[string]string
	if err := json.Unmarshal(e.Metadata, &meta); err != nil || meta["source"] != "test" || meta["trace"] != "t-1" {
		t.Fatalf("metadata = %s, %v", e.Metadata, err)
	}
}

func TestIngestWithoutMetadata(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "user.created", EntityID: "u", Payload: map[string]int{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Query(ctx, allsource.Query{EntityID: "u"})
	if err != nil || len(r.Events) != 1 || string(r.Events[0].Metadata) != "null" {
		t.Fatalf("events = %+v, %v", r, err)
	}
}

func TestBatchIngest(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	var batch []allsource.NewEvent
	for i := range 5 {
		batch = append(batch, allsource.NewEvent{Type: "item.added", EntityID: "cart-1", Payload: map[string]int{"i": i}})
	}
	res, err := c.IngestBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 5 || res.Ingested != 5 || len(res.Events) != 5 {
		t.Fatalf("batch result = %+v", res)
	}
	ids := map[string]bool{}
	for _, e := range res.Events {
		ids[e.EventID] = true
	}
	if len(ids) != 5 {
		t.Fatalf("%d distinct ids, want 5", len(ids))
	}
	r, err := c.Query(ctx, allsource.Query{EntityID: "cart-1"})
	if err != nil || r.Count != 5 {
		t.Fatalf("query count = %v, %v", r.Count, err)
	}
}

func TestQueryByTypeAndLimit(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	for i := range 4 {
		for _, typ := range []string{"order.placed", "order.shipped"} {
			if _, err := c.Ingest(ctx, allsource.NewEvent{Type: typ, EntityID: "order-" + string(rune('a'+i)), Payload: map[string]int{}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := c.Query(ctx, allsource.Query{EventType: "order.placed"})
	if err != nil || r.Count < 3 {
		t.Fatalf("by type: %v, %v", r, err)
	}
	for _, e := range r.Events {
		if e.EventType != "order.placed" {
			t.Fatalf("got type %q", e.EventType)
		}
	}
	r, err = c.Query(ctx, allsource.Query{EntityID: "order-a", Limit: 1})
	if err != nil || len(r.Events) != 1 || !r.HasMore || r.TotalCount != 2 {
		t.Fatalf("with limit: %+v, %v", r, err)
	}
	q, err := newQuery(t, srv).Query(ctx, allsource.Query{EntityID: "order-a", EventType: "order.shipped"})
	if err != nil || len(q.Events) != 1 {
		t.Fatalf("query service: %+v, %v", q, err)
	}
}

func TestQueryUnknownEntityIsEmpty(t *testing.T) {
	srv := newServer(t)
	r, err := newCore(t, srv).Query(context.Background(), allsource.Query{EntityID: "nobody"})
	if err != nil || r.Count != 0 || len(r.Events) != 0 {
		t.Fatalf("%+v, %v", r, err)
	}
}

type order struct {
	Status string
	Items  int
	Total  float64
}

func foldOrder(s *order, e *allsource.Event) (*order, error) {
	if s == nil {
		s = &order{}
	}
	var p struct {
		Price  float64 `json:"price"`
		Status string  `json:"status"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return s, err
	}
	switch e.EventType {
	case "order.created":
		s.Status = "created"
	case "order.item_added":
		s.Items++
		s.Total += p.Price
	case "order.completed":
		s.Status = "completed"
	}
	return s, nil
}

func TestQueryAndFold(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	for _, e := range []allsource.NewEvent{
		{Type: "order.created", EntityID: "order-1", Payload: map[string]any{}},
		{Type: "order.item_added", EntityID: "order-1", Payload: map[string]any{"price": 29.99}},
		{Type: "order.item_added", EntityID: "order-1", Payload: map[string]any{"price": 49.99}},
		{Type: "order.completed", EntityID: "order-1", Payload: map[string]any{}},
	} {
		if _, err := c.Ingest(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for name, src := range map[string]allsource.EventSource{"core": c, "query": newQuery(t, srv)} {
		s, n, err := allsource.FoldEvents(ctx, src, allsource.Query{EntityID: "order-1"}, (*order)(nil), allsource.FolderFunc[*order](foldOrder))
		if err != nil || n != 4 || s == nil || s.Status != "completed" || s.Items != 2 || s.Total < 79.97 || s.Total > 79.99 {
			t.Fatalf("%s: fold = %+v, n=%d, %v", name, s, n, err)
		}
	}
	s, n, err := allsource.FoldEvents(ctx, c, allsource.Query{EntityID: "order-none"}, (*order)(nil), allsource.FolderFunc[*order](foldOrder))
	if err != nil || n != 0 || s != nil {
		t.Fatalf("empty fold = %+v, n=%d, %v", s, n, err)
	}
}

func TestEventsPagesInOrder(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv, allsource.WithPageSize(7))
	ctx := context.Background()
	var batch []allsource.NewEvent
	for i := range 50 {
		batch = append(batch, allsource.NewEvent{Type: "tick", EntityID: "clock", Payload: map[string]int{"n": i}})
	}
	if _, err := c.IngestBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for e, err := range c.Events(ctx, allsource.Query{EntityID: "clock"}) {
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, e.Version)
	}
	if len(versions) != 50 {
		t.Fatalf("%d events, want 50", len(versions))
	}
	for i, v := range versions {
		if v != int64(i+1) {
			t.Fatalf("event %d has version %d", i, v)
		}
	}
}

func TestConnectionRefusedIsRetryableTransportError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := allsource.NewCoreClient("http://"+addr, testKey, allsource.WithRuntimeOptions(runtime.WithMaxRetries(0)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Health(context.Background())
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "dial" {
		t.Fatalf("err = %v, want a wrapped dial *net.OpError", err)
	}
	var apiErr *runtime.APIError
	if errors.As(err, &apiErr) {
		t.Fatalf("transport failure reported as API error: %v", err)
	}
}

func TestCircuitBreakerTrips(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	br := runtime.NewCircuitBreaker(runtime.CircuitBreakerSettings{Threshold: 2, Cooldown: time.Minute})
	c, err := allsource.NewCoreClient("http://"+addr, testKey, allsource.WithRuntimeOptions(runtime.WithMaxRetries(0), runtime.WithCircuitBreaker(br)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		if _, err := c.Health(ctx); err == nil || errors.Is(err, runtime.ErrCircuitOpen) {
			t.Fatalf("early failure = %v", err)
		}
	}
	_, err = c.Health(ctx)
	var open *runtime.CircuitOpenError
	if !errors.Is(err, runtime.ErrCircuitOpen) || !errors.As(err, &open) || open.RetryAt.IsZero() {
		t.Fatalf("third call = %v, want an open circuit saying when it retries", err)
	}
}

func TestConcurrentIngestGivesDistinctVersions(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Go(func() {
			_, err := c.Ingest(ctx, allsource.NewEvent{Type: "counter.incremented", EntityID: "counter", Payload: map[string]int{"i": i}})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r, err := c.Query(ctx, allsource.Query{EntityID: "counter"})
	if err != nil || r.Count != 10 {
		t.Fatalf("count = %v, %v", r.Count, err)
	}
	seen := map[int64]bool{}
	for _, e := range r.Events {
		seen[e.Version] = true
	}
	for v := int64(1); v <= 10; v++ {
		if !seen[v] {
			t.Fatalf("version %d missing: %v", v, seen)
		}
	}
	if ev, ok := r.EntityVersion.Get(); !ok || ev != 10 {
		t.Fatalf("entity_version = %v", r.EntityVersion)
	}
}

func TestPayloadAndMetadataFidelity(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	payload := json.RawMessage(`{"s":"text ü \"q\"","n":12345678901234567,"f":1.5e-7,"b":true,"z":null,"a":[1,"two",{"three":3},[]],"o":{"nested":{"deep":[null]}}}`)
	meta := json.RawMessage(`{"correlation_id":"c-1","tags":["a","b"],"n":0}`)
	if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "doc.saved", EntityID: "doc-1", Payload: payload, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Query(ctx, allsource.Query{EntityID: "doc-1"})
	if err != nil || len(r.Events) != 1 {
		t.Fatalf("%v, %v", r, err)
	}
	for name, pair := range map[string][2]json.RawMessage{"payload": {payload, r.Events[0].Payload}, "metadata": {meta, r.Events[0].Metadata}} {
		var want, got any
		dec := func(b []byte, v *any) {
			d := json.NewDecoder(bytesReader(b))
			d.UseNumber()
			if err := d.Decode(v); err != nil {
				t.Fatal(err)
			}
		}
		dec(pair[0], &want)
		dec(pair[1], &got)
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s round trip:\n got %s\nwant %s", name, pair[1], pair[0])
		}
	}
}

func TestEventsComeBackInOrder(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	for i := range 5 {
		if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "step.done", EntityID: "job", Payload: map[string]int{"step": i}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	r, err := c.Query(ctx, allsource.Query{EntityID: "job"})
	if err != nil || len(r.Events) != 5 {
		t.Fatalf("%v, %v", r, err)
	}
	for i := 1; i < 5; i++ {
		if !r.Events[i].Timestamp.After(r.Events[i-1].Timestamp) || r.Events[i].Version != int64(i+1) {
			t.Fatalf("event %d out of order: %v then %v", i, r.Events[i-1].Timestamp, r.Events[i].Timestamp)
		}
	}
	d, err := c.Query(ctx, allsource.Query{EntityID: "job", Order: allsource.Descending})
	if err != nil || d.Events[0].Version != 5 {
		t.Fatalf("desc: %v, %v", d, err)
	}
}
