package allsource_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/runtime"
)

// In dev mode Core writes events without a tenant to "default" and reads
// the caller's tenant ("dev-tenant"): without WithTenant a program does not
// find what it wrote; with it, writes and reads share the tenant.
func TestWithTenantAppliesToWritesAndReads(t *testing.T) {
	srv := coretest.NewTestServer(t, coretest.WithDevMode())
	ctx := context.Background()
	plain, err := allsource.NewCoreClient(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Ingest(ctx, allsource.NewEvent{Type: "a.b", EntityID: "e", Payload: 1}); err != nil {
		t.Fatal(err)
	}
	if r, err := plain.Query(ctx, allsource.Query{EntityID: "e"}); err != nil || r.Count != 0 {
		t.Fatalf("without a tenant: %d events, %v; Core's trap expected 0", r.Count, err)
	}

	c, err := allsource.NewCoreClient(srv.URL, "", allsource.WithTenant("acme"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "a.b", EntityID: "e", Payload: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IngestBatch(ctx, []allsource.NewEvent{{Type: "a.b", EntityID: "e", Payload: 3}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for e, err := range c.EntityEvents(ctx, "e") {
		if err != nil {
			t.Fatal(err)
		}
		if e.TenantID != "acme" {
			t.Errorf("event in tenant %q", e.TenantID)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("with WithTenant: %d events, want 2", n)
	}
	// An explicit tenant wins over the client's, per event and per query.
	if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "a.b", EntityID: "e", Payload: 4, TenantID: "other"}); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Query(ctx, allsource.Query{EntityID: "e", TenantID: "other"}); err != nil || r.Count != 1 {
		t.Fatalf("explicit tenant: %+v, %v", r, err)
	}
	// Per call, the option scopes that call.
	if r, err := plain.Query(ctx, allsource.Query{EntityID: "e"}, allsource.WithTenant("acme")); err != nil || r.Count != 2 {
		t.Fatalf("per-call tenant: %+v, %v", r, err)
	}
	// A bad tenant is refused at construction.
	if _, err := allsource.NewCoreClient(srv.URL, "", allsource.WithTenant("a.b")); !errors.Is(err, allsource.ErrInvalidArgument) {
		t.Fatalf("bad tenant: %v", err)
	}
	// The Query Service takes the tenant from the key.
	if _, err := allsource.NewQueryClient(srv.QueryURL(), testKey, allsource.WithTenant("acme")); !errors.Is(err, allsource.ErrInvalidArgument) {
		t.Fatalf("QueryClient with a tenant: %v", err)
	}
}

// A zero CoreClient or QueryClient returns a clear error, never panics.
func TestZeroClientsReturnErrors(t *testing.T) {
	ctx := context.Background()
	var c allsource.CoreClient
	var q allsource.QueryClient
	checks := map[string]error{}
	_, checks["Health"] = c.Health(ctx)
	_, checks["Ingest"] = c.Ingest(ctx, allsource.NewEvent{Type: "a", EntityID: "e"})
	_, checks["IngestBatch"] = c.IngestBatch(ctx, []allsource.NewEvent{{Type: "a", EntityID: "e"}})
	_, checks["Query"] = c.Query(ctx, allsource.Query{})
	_, checks["ListProjections"] = c.ListProjections(ctx)
	_, _, checks["ProjectionState"] = c.ProjectionState(ctx, "p", "e")
	checks["AckConsumer"] = c.AckConsumer(ctx, "w", 1)
	_, checks["Subscribe"] = c.Subscribe(ctx, allsource.StreamOptions{})
	_, checks["QueryClient.Health"] = q.Health(ctx)
	_, checks["QueryClient.Query"] = q.Query(ctx, allsource.Query{})
	for _, err := range c.Events(ctx, allsource.Query{}) {
		checks["Events"] = err
	}
	for _, err := range q.Events(ctx, allsource.Query{}) {
		checks["QueryClient.Events"] = err
	}
	for name, err := range checks {
		if !errors.Is(err, allsource.ErrInvalidArgument) || !containsString(err.Error(), "NewCoreClient") {
			t.Errorf("%s on a zero client: %v", name, err)
		}
	}
}

// One option type serves construction and calls: a per-call option applies
// to that call only; a client-only option given per call is refused.
func TestOneOptionTypeForClientsAndCalls(t *testing.T) {
	srv := newServer(t)
	var log requestLog
	c := newCore(t, srv, log.option(), allsource.WithHeader("X-Client", "1"))
	ctx := context.Background()
	var resp *http.Response
	if _, err := c.Health(ctx, allsource.WithResponseInto(&resp)); err != nil || resp == nil || resp.StatusCode != 200 {
		t.Fatalf("per-call WithResponseInto: %v, %v", resp, err)
	}
	slow := srv.Inject(coretest.Core, "health", 0, coretest.Fault{Delay: 200 * time.Millisecond})
	if _, err := c.Health(ctx, allsource.WithTimeout(20*time.Millisecond), allsource.WithMaxRetries(0)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("per-call WithTimeout: %v", err)
	}
	slow()
	if _, err := c.Health(ctx); err != nil {
		t.Fatalf("the per-call timeout outlived its call: %v", err)
	}
	if _, err := c.Health(ctx, allsource.WithLegacyAPIKeyHeader()); !errors.Is(err, allsource.ErrInvalidArgument) {
		t.Fatalf("client-only option per call: %v", err)
	}
	if _, err := c.Query(ctx, allsource.Query{}, allsource.WithPageSize(0)); !errors.Is(err, allsource.ErrInvalidArgument) {
		t.Fatalf("bad per-call option: %v", err)
	}

	// WithLegacyAPIKeyHeader sends the key in X-API-Key, which Core accepts.
	var sawLegacy, sawBearer bool
	legacy := newCore(t, srv, allsource.WithLegacyAPIKeyHeader(), allsource.WithMiddleware(func(next runtime.RoundTripFunc) runtime.RoundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			sawLegacy = r.Header.Get("X-API-Key") != ""
			sawBearer = r.Header.Get("Authorization") != ""
			return next(r)
		}
	}))
	if _, err := legacy.Query(ctx, allsource.Query{}); err != nil || !sawLegacy || sawBearer {
		t.Fatalf("legacy header: %v, X-API-Key %v, Authorization %v", err, sawLegacy, sawBearer)
	}
}

// Events honours Query.Limit as a total over every page, and Offset as its
// start.
func TestEventsHonoursLimitAndOffset(t *testing.T) {
	srv := newServer(t)
	var log requestLog
	c := newCore(t, srv, allsource.WithPageSize(4), log.option())
	ctx := context.Background()
	if _, err := c.IngestBatch(ctx, readings(20, 1, "e")); err != nil {
		t.Fatal(err)
	}
	before := len(log.all())
	var versions []int64
	for e, err := range c.Events(ctx, allsource.Query{EntityID: "e", Offset: 3, Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, e.Version)
	}
	if len(versions) != 10 || versions[0] != 4 || versions[9] != 13 {
		t.Fatalf("versions %v, want 4 to 13", versions)
	}
	if n := len(log.all()) - before; n != 3 {
		t.Errorf("%d page requests for 10 events in pages of 4, want 3", n)
	}
	_, n, err := allsource.FoldEvents(ctx, c, allsource.Query{EntityID: "e", Limit: 5}, 0,
		allsource.FolderFunc[int](func(s int, _ *allsource.Event) (int, error) { return s + 1, nil }))
	if err != nil || n != 5 {
		t.Fatalf("FoldEvents with Limit 5 folded %d (%v)", n, err)
	}
	ents := 0
	for _, err := range c.Entities(ctx, allsource.EntityQuery{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		ents++
	}
	if ents != 1 {
		t.Fatalf("Entities with Limit 1: %d", ents)
	}
}

// ListProjections lists Core's registered projections.
func TestListProjections(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	l, err := c.ListProjections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range l.Projections {
		names[p.Name] = true
	}
	if !names["entity_snapshots"] || !names["event_counters"] || l.Total != int64(len(l.Projections)) {
		t.Fatalf("projections %+v", l)
	}
}

// Replayed and live events are read the same way through FrameEvents.
func TestFrameEventsSameAccessors(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.RegisterConsumer(ctx, "w", []string{"a.*"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "a.b", EntityID: "replayed", Payload: 1}); err != nil {
		t.Fatal(err)
	}
	s, err := c.Subscribe(ctx, allsource.StreamOptions{ConsumerID: "w"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []allsource.PositionedEvent
	for f, err := range s.Frames(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		evs := allsource.FrameEvents(f)
		got = append(got, evs...)
		if len(evs) == 0 { // replay_complete: go live
			waitClients(t, srv, 1)
			if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "a.b", EntityID: "live", Payload: 2}); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) == 2 {
			break
		}
	}
	if got[0].Event.EntityID != "replayed" || got[0].Position != 1 || got[1].Event.EntityID != "live" || got[1].Position != 0 {
		t.Fatalf("events %+v", got)
	}
}

// The error helpers classify the failures a caller meets.
func TestErrorHelpers(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv, allsource.WithMaxRetries(0))
	ctx := context.Background()
	srv.Inject(coretest.Core, "health", 1, coretest.Fault{Status: http.StatusServiceUnavailable})
	_, unavailable := c.Health(ctx)
	_, badRequest := c.Query(ctx, allsource.Query{}, allsource.WithMiddleware(func(next runtime.RoundTripFunc) runtime.RoundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			r.URL.RawQuery = "order=sideways"
			return next(r)
		}
	}))
	if _, err := c.Ingest(ctx, allsource.NewEvent{Type: "a.b", EntityID: "e", Payload: 1}); err != nil {
		t.Fatal(err)
	}
	_, conflict := c.Ingest(ctx, allsource.NewEvent{Type: "a.b", EntityID: "e", Payload: 1, ExpectedVersion: runtime.Some[int64](0)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	refusedClient, err := allsource.NewCoreClient("http://"+addr, testKey, allsource.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, refused := refusedClient.Health(ctx)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, canceled := c.Health(cancelled)
	_, invalid := c.Ingest(ctx, allsource.NewEvent{Type: "Bad", EntityID: "e"})

	cases := []struct {
		name      string
		err       error
		retryable bool
		status    int
		check     func(error) bool
	}{
		{"503", unavailable, true, 503, runtime.IsServerError},
		{"400", badRequest, false, 400, runtime.IsBadRequest},
		{"version conflict", conflict, false, 409, func(err error) bool { return errors.Is(err, allsource.ErrVersionConflict) }},
		{"connection refused", refused, true, 0, func(err error) bool { return !runtime.IsServerError(err) }},
		{"cancelled", canceled, false, 0, func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"invalid argument", invalid, false, 0, func(err error) bool { return errors.Is(err, allsource.ErrInvalidArgument) }},
	}
	for _, tc := range cases {
		if tc.err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if got := runtime.IsRetryable(tc.err); got != tc.retryable {
			t.Errorf("%s: IsRetryable = %v, want %v (%v)", tc.name, got, tc.retryable, tc.err)
		}
		if got := runtime.StatusCode(tc.err); got != tc.status {
			t.Errorf("%s: StatusCode = %d, want %d", tc.name, got, tc.status)
		}
		if !tc.check(tc.err) {
			t.Errorf("%s: helper says no: %v", tc.name, tc.err)
		}
	}
	if runtime.IsRetryable(nil) || runtime.IsNotFound(badRequest) || !runtime.IsNotFound(fmt.Errorf("wrapped: %w", &runtime.APIError{StatusCode: 404})) {
		t.Error("IsRetryable(nil) or IsNotFound misclassify")
	}
}

// EntityEvents reads one entity's events through either client.
func TestEntityEventsBothClients(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx := context.Background()
	if _, err := c.IngestBatch(ctx, append(readings(3, 1, "e"), readings(2, 1, "other")...)); err != nil {
		t.Fatal(err)
	}
	count := func(seq func(func(allsource.Event, error) bool)) int {
		n := 0
		for e, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			if e.EntityID != "e" {
				t.Fatalf("event of %q", e.EntityID)
			}
			n++
		}
		return n
	}
	if n := count(c.EntityEvents(ctx, "e")); n != 3 {
		t.Errorf("CoreClient: %d events", n)
	}
	if n := count(newQuery(t, srv).EntityEvents(ctx, "e")); n != 3 {
		t.Errorf("QueryClient: %d events", n)
	}
	if n := count(c.EntityEvents(ctx, "e", allsource.WithPageSize(1))); n != 3 {
		t.Errorf("pages of one: %d events", n)
	}
}
