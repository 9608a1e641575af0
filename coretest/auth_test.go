package coretest

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Reference §2.1: Core reads Authorization first (Bearer, bearer, or the
// raw token), then X-API-Key; failures are plain-text 401s; /health is
// public.
func TestAuth_CoreTokenExtraction_Ref2_1(t *testing.T) {
	s := newTestServer(t)
	c := &apiClient{t: t, base: s.URL}
	path := "/api/v1/stats"
	for _, h := range [][]string{
		{"Authorization", "Bearer " + testKey},
		{"Authorization", "bearer " + testKey},
		{"Authorization", testKey},
		{"X-API-Key", testKey},
	} {
		c.must(http.StatusOK, "GET", path, nil, h...)
	}
	for _, tc := range []struct {
		headers []string
		msg     string
	}{
		{nil, "Missing authorization header"},
		{[]string{"Authorization", "Bearer"}, "Empty authorization token"},
		{[]string{"Authorization", "Bearer ask_wrong"}, "Invalid API key"},
		{[]string{"X-API-Key", "ask_wrong"}, "Invalid API key"},
		// Authorization wins over a valid X-API-Key.
		{[]string{"Authorization", "Bearer ask_wrong", "X-API-Key", testKey}, "Invalid API key"},
	} {
		r := c.must(http.StatusUnauthorized, "GET", path, nil, tc.headers...)
		if string(r.body) != tc.msg || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Errorf("%v: body %q (%s), want %q", tc.headers, r.body, r.header.Get("Content-Type"), tc.msg)
		}
		if strings.Contains(string(r.body), "ask_wrong") {
			t.Errorf("401 body echoes the key")
		}
	}
	c.must(http.StatusOK, "GET", "/health", nil)
}

// Reference §2.1: dev mode serves requests without credentials as
// dev-tenant and has no rate limit; valid keys still carry their tenant.
func TestAuth_DevMode_Ref2_1(t *testing.T) {
	s := newTestServer(t, WithDevMode(), WithRateLimit(1, 1), WithTenantAPIKey("ask_acme", "acme"))
	anon := &apiClient{t: t, base: s.URL}
	for i := 0; i < 5; i++ {
		anon.must(http.StatusOK, "POST", "/api/v1/events", ev{"event_type": "a.b", "entity_id": "e", "payload": i, "tenant_id": "dev-tenant"})
	}
	if q := anon.query(""); q.TotalCount != 5 {
		t.Errorf("dev-tenant query: %d events", q.TotalCount)
	}
	acme := &apiClient{t: t, base: s.URL, key: "ask_acme"}
	if q := acme.query(""); q.TotalCount != 0 {
		t.Errorf("acme key saw dev-tenant events: %d", q.TotalCount)
	}
}

// Reference §2.1: a token bucket per tenant; 429 is plain text with an
// integer Retry-After; successful responses carry X-RateLimit-Limit and
// X-RateLimit-Remaining; /health is not limited.
func TestRateLimit_Core429_Ref2_1(t *testing.T) {
	s := newTestServer(t, WithRateLimit(60, 3), WithTenantAPIKey("ask_acme", "acme"))
	c := coreClient(t, s)
	for want := 2; want >= 0; want-- {
		r := c.must(http.StatusOK, "GET", "/api/v1/stats", nil)
		if r.header.Get("X-RateLimit-Limit") != "60" || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(want) {
			t.Errorf("headers limit %q remaining %q, want 60 and %d", r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"), want)
		}
	}
	r := c.must(http.StatusTooManyRequests, "GET", "/api/v1/stats", nil)
	if string(r.body) != "Rate limit exceeded. Limit: 60 requests/min" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("429 body %q", r.body)
	}
	// One token per second at 60/min: the wait truncates to 0 or 1 s, and
	// Core omits the header when it rounds to 0.
	if ra := r.header.Get("Retry-After"); ra != "" && ra != "1" && ra != "0" {
		t.Errorf("Retry-After %q", ra)
	}
	// Other tenants have their own bucket.
	acme := &apiClient{t: t, base: s.URL, key: "ask_acme"}
	acme.must(http.StatusOK, "GET", "/api/v1/stats", nil)
	c.must(http.StatusOK, "GET", "/health", nil)

	slow := newTestServer(t, WithRateLimit(1, 1))
	sc := coreClient(t, slow)
	sc.must(http.StatusOK, "GET", "/api/v1/stats", nil)
	r = sc.must(http.StatusTooManyRequests, "GET", "/api/v1/stats", nil)
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 58 || ra > 60 {
		t.Errorf("Retry-After %q at 1/min, want about 59", r.header.Get("Retry-After"))
	}
	slow.Reset()
	sc.must(http.StatusOK, "GET", "/api/v1/stats", nil)
}

// Reference §2.1: a follower refuses writes with 409 read_only, including
// the bulk read under /projections/, but not consumer calls or reads.
func TestFollower_WritesRefused_Ref2_1(t *testing.T) {
	s := newTestServer(t, WithFollower())
	c := coreClient(t, s)
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/events", ev{"event_type": "a", "entity_id": "e", "payload": 1}},
		{"POST", "/api/v1/events/batch", map[string]any{"events": []ev{}}},
		{"PUT", "/api/v1/projections/p/e/state", map[string]any{"state": 1}},
		{"POST", "/api/v1/projections/p/bulk", map[string]any{"entity_ids": []string{"e"}}},
		{"DELETE", "/api/v1/projections/entity_snapshots", nil},
	} {
		r := c.must(http.StatusConflict, req.method, req.path, req.body)
		if b := r.object(t); b["error"] != "read_only" || b["message"] != "This node is a read-only follower" {
			t.Errorf("%s %s: %s", req.method, req.path, r.body)
		}
	}
	c.must(http.StatusOK, "POST", "/api/v1/consumers", map[string]any{"consumer_id": "c"})
	c.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default", nil)
	if b := c.must(http.StatusOK, "GET", "/health", nil).object(t); b["role"] != "follower" {
		t.Errorf("health role %v", b["role"])
	}
}

// Reference §5.1: the health body.
func TestHealth_Core_Ref5_1(t *testing.T) {
	s := newTestServer(t)
	b := (&apiClient{t: t, base: s.URL}).must(http.StatusOK, "GET", "/health", nil).object(t)
	if b["status"] != "healthy" || b["service"] != "allsource-core" || b["role"] != "leader" || b["version"] == "" {
		t.Errorf("health %v", b)
	}
}

// Reference §2.2 and §6: the Query Service's health, JSON 401 (X-API-Key
// first, then exactly "Bearer "), tenant from the credentials, limit 100
// by default, and JSON 429 with retry-after.
func TestQueryService_Ref2_2_Ref6(t *testing.T) {
	s := newTestServer(t, WithTenantAPIKey("qs_acme", "acme"), WithRateLimit(600, 1000))
	c := coreClient(t, s)
	for i := 0; i < 120; i++ {
		c.ingest("a.b", "e", i, "tenant_id", "acme")
	}
	c.ingest("a.b", "e", 0)
	qc := &apiClient{t: t, base: s.QueryURL(), key: "qs_acme"}
	h := qc.must(http.StatusOK, "GET", "/health", nil, "Authorization", "").object(t)
	if h["service"] != "query_service_ex" || h["status"] != "healthy" || h["backend"] != "healthy" {
		t.Errorf("health %v", h)
	}
	r := qc.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default", nil)
	var q queryResp
	r.decode(t, &q)
	if q.Count != 100 || q.TotalCount != 120 || !q.HasMore || q.Events[0]["tenant_id"] != "acme" {
		t.Errorf("QS query: count %d total %d has_more %v", q.Count, q.TotalCount, q.HasMore)
	}
	if r.header.Get("X-RateLimit-Limit") != "10" || r.header.Get("X-RateLimit-Reset") == "" {
		t.Errorf("QS rate-limit headers %v", r.header)
	}
	qc.must(http.StatusOK, "GET", "/api/v1/events/query?limit=5", nil, "Authorization", "", "X-API-Key", "qs_acme")
	// Parameters the Query Service does not forward have no effect.
	var unforwarded queryResp
	qc.must(http.StatusOK, "GET", "/api/v1/events/query?event_type_prefix=zzz&order=desc&limit=1", nil).decode(t, &unforwarded)
	if unforwarded.TotalCount != 120 || unforwarded.Events[0]["version"] != float64(1) {
		t.Errorf("unforwarded parameters applied: total %d, first version %v", unforwarded.TotalCount, unforwarded.Events[0]["version"])
	}
	for _, hdr := range [][]string{
		{"Authorization", ""},
		{"Authorization", "bearer qs_acme"},
		{"Authorization", "Bearer nope"},
		{"Authorization", "Bearer qs_acme", "X-API-Key", "nope"},
	} {
		r := qc.must(http.StatusUnauthorized, "GET", "/api/v1/events/query", nil, hdr...)
		e, _ := r.object(t)["error"].(map[string]any)
		if e["code"] != "unauthorized" || e["message"] == "" {
			t.Errorf("%v: 401 body %s", hdr, r.body)
		}
	}
	r = qc.must(http.StatusBadRequest, "GET", "/api/v1/events/query?since=soon", nil)
	if _, ok := r.object(t)["error"].(string); !ok {
		t.Errorf("QS 400 body %s", r.body)
	}

	limited := newTestServer(t, WithRateLimit(60, 1))
	lc := queryClient(t, limited)
	lc.must(http.StatusOK, "GET", "/api/v1/events/query", nil)
	r = lc.must(http.StatusTooManyRequests, "GET", "/api/v1/events/query", nil)
	e, _ := r.object(t)["error"].(map[string]any)
	if e["code"] != "rate_limit_exceeded" || r.header.Get("Retry-After") == "" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("QS 429 %s %v", r.body, r.header)
	}
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra < 1 {
		t.Errorf("QS Retry-After %q, want >= 1", r.header.Get("Retry-After"))
	}
}

// Request logs never carry credentials, whichever header brings them.
func TestLogger_NoSecrets(t *testing.T) {
	var logs syncBuffer
	s := newTestServer(t, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	c := coreClient(t, s)
	c.ingest("a.b", "e", 1)
	c.must(http.StatusOK, "GET", "/api/v1/stats", nil, "Authorization", "", "X-API-Key", testKey)
	c.must(http.StatusUnauthorized, "GET", "/api/v1/stats", nil, "Authorization", "Bearer ask_leaked_secret")
	ws := dial(t, s, "w")
	ws.nextObject()
	if out := logs.String(); strings.Contains(out, testKey) || strings.Contains(out, "ask_leaked_secret") || !strings.Contains(out, "operation=ingestEvent") {
		t.Errorf("logs:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer that the server's goroutines and the test
// can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
