package coretest

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedOrders stores a fixed set of events in tenant default and returns
// the ingest timestamps in order.
func seedOrders(t *testing.T, c *apiClient) []string {
	t.Helper()
	events := []ev{
		{"event_type": "order.placed", "entity_id": "o1", "payload": map[string]any{"total": 42, "status": "new"}},
		{"event_type": "order.paid", "entity_id": "o1", "payload": map[string]any{"total": "42"}},
		{"event_type": "order.placed", "entity_id": "o2", "payload": json.RawMessage(`{"total":42.0,"status":"new"}`)},
		{"event_type": "user.created", "entity_id": "u1", "payload": map[string]any{"name": "Ada"}},
		{"event_type": "order.shipped", "entity_id": "o1", "payload": map[string]any{"carrier": "dhl"}},
		{"event_type": "orders.archived", "entity_id": "o3", "payload": "not an object"},
		{"event_type": "order.placed", "entity_id": "o9", "payload": map[string]any{}, "tenant_id": "other"},
	}
	var ts []string
	for _, e := range events {
		r := c.must(http.StatusOK, "POST", "/api/v1/events", e).object(t)
		ts = append(ts, r["timestamp"].(string))
	}
	return ts
}

func assertTypes(t *testing.T, q queryResp, want ...string) {
	t.Helper()
	got := make([]string, len(q.Events))
	for i, e := range q.Events {
		got[i] = e["event_type"].(string) + "/" + e["entity_id"].(string)
	}
	if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// Reference §5.3: entity_id, exact event_type, event_type_prefix (ignored
// when event_type is given without entity_id) and comma-separated excluded
// prefixes.
func TestQuery_TypeAndEntityFilters_Ref5_3(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	seedOrders(t, c)
	assertTypes(t, c.query("tenant_id=default&entity_id=o1"), "order.placed/o1", "order.paid/o1", "order.shipped/o1")
	assertTypes(t, c.query("tenant_id=default&event_type=order.placed"), "order.placed/o1", "order.placed/o2")
	assertTypes(t, c.query("tenant_id=default&event_type=order"))
	assertTypes(t, c.query("tenant_id=default&event_type_prefix=order."), "order.placed/o1", "order.paid/o1", "order.placed/o2", "order.shipped/o1")
	assertTypes(t, c.query("tenant_id=default&event_type_prefix=order"), "order.placed/o1", "order.paid/o1", "order.placed/o2", "order.shipped/o1", "orders.archived/o3")
	// Prefix ignored: event_type without entity_id.
	assertTypes(t, c.query("tenant_id=default&event_type=user.created&event_type_prefix=order."), "user.created/u1")
	// Both apply with entity_id.
	assertTypes(t, c.query("tenant_id=default&entity_id=o1&event_type=order.paid&event_type_prefix=user."))
	assertTypes(t, c.query("tenant_id=default&entity_id=o1&event_type=order.paid&event_type_prefix=order."), "order.paid/o1")
	assertTypes(t, c.query("tenant_id=default&exclude_event_type_prefix="+url.QueryEscape("order.paid, user.,orders")), "order.placed/o1", "order.placed/o2", "order.shipped/o1")
	assertTypes(t, c.query("tenant_id=other"), "order.placed/o9")
}

// Reference §5.3: since, until and as_of are inclusive bounds.
func TestQuery_TimeWindowInclusive_Ref5_3(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	ts := seedOrders(t, c)
	esc := url.QueryEscape
	assertTypes(t, c.query("tenant_id=default&since="+esc(ts[1])+"&until="+esc(ts[3])), "order.paid/o1", "order.placed/o2", "user.created/u1")
	assertTypes(t, c.query("tenant_id=default&as_of="+esc(ts[1])), "order.placed/o1", "order.paid/o1")
	assertTypes(t, c.query("tenant_id=default&entity_id=o1&since="+esc(ts[4])), "order.shipped/o1")
	assertTypes(t, c.query("tenant_id=default&event_type=order.placed&until="+esc(ts[0])), "order.placed/o1")
	first, _ := time.Parse(time.RFC3339Nano, ts[0])
	assertTypes(t, c.query("tenant_id=default&until="+esc(first.Add(-time.Nanosecond).Format(time.RFC3339Nano))))
	r := c.send("GET", "/api/v1/events/query?tenant_id=default&since=yesterday", nil)
	if r.status != http.StatusBadRequest {
		t.Errorf("bad since: %d %s", r.status, r.body)
	}
}

// Reference §5.3: payload_filter matches top-level members by JSON
// equality ("42" is not 42); a non-object filter is 400.
func TestQuery_PayloadFilterJSONEquality_Ref5_3(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	seedOrders(t, c)
	pf := func(f string) string { return "tenant_id=default&payload_filter=" + url.QueryEscape(f) }
	assertTypes(t, c.query(pf(`{"total":42}`)), "order.placed/o1")
	assertTypes(t, c.query(pf(`{"total":"42"}`)), "order.paid/o1")
	assertTypes(t, c.query(pf(`{"total":42.0}`)), "order.placed/o2")
	assertTypes(t, c.query(pf(`{"total":42,"status":"new"}`)), "order.placed/o1")
	assertTypes(t, c.query(pf(`{"status":"new","missing":null}`)))
	assertTypes(t, c.query(pf(`{}`)), "order.placed/o1", "order.paid/o1", "order.placed/o2", "user.created/u1", "order.shipped/o1", "orders.archived/o3")
	for _, bad := range []string{`[1]`, `"x"`, `{`, `42`} {
		r := c.send("GET", "/api/v1/events/query?"+pf(bad), nil)
		if r.status != http.StatusBadRequest || !strings.HasPrefix(r.object(t)["error"].(string), "Invalid input: ") {
			t.Errorf("payload_filter %s: %d %s", bad, r.status, r.body)
		}
	}
}

// Reference §5.3: order asc/desc case-insensitively, else 400; offset then
// limit; total_count, has_more and count; no default limit in Core.
func TestQuery_OrderOffsetLimit_Ref5_3(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	for i := 0; i < 150; i++ {
		c.ingest("n.item", "e", map[string]any{"i": i})
	}
	q := c.query("tenant_id=default")
	if q.Count != 150 || q.TotalCount != 150 || q.HasMore || len(q.Events) != 150 {
		t.Fatalf("unbounded: count %d total %d has_more %v", q.Count, q.TotalCount, q.HasMore)
	}
	q = c.query("tenant_id=default&offset=140&limit=5")
	if q.Count != 5 || q.TotalCount != 150 || !q.HasMore || q.Events[0]["payload"].(map[string]any)["i"] != float64(140) {
		t.Fatalf("page: %+v", q)
	}
	q = c.query("tenant_id=default&offset=145&limit=5")
	if q.HasMore {
		t.Errorf("last page has_more true")
	}
	q = c.query("tenant_id=default&order=desc&limit=2")
	if q.Events[0]["payload"].(map[string]any)["i"] != float64(149) || q.Events[1]["version"] != float64(149) {
		t.Errorf("desc: %v", q.field("version"))
	}
	q = c.query("tenant_id=default&order=asc&limit=1&offset=1")
	if q.Events[0]["version"] != float64(2) {
		t.Errorf("asc: %v", q.field("version"))
	}
	// Core accepts any case; the spec lists only the lower-case values, so
	// the server reports the accepted upper-case requests as violations.
	var vs violations
	loose := NewServer(WithAPIKeys(testKey), WithSpecValidation(vs.report))
	defer loose.Close()
	lc := coreClient(t, loose)
	lc.ingest("n.item", "e", 1)
	lc.ingest("n.item", "e", 2)
	if q := lc.query("tenant_id=default&order=DESC"); q.Events[0]["version"] != float64(2) {
		t.Errorf("order=DESC: %v", q.field("version"))
	}
	if q := lc.query("tenant_id=default&order=Asc"); q.Events[0]["version"] != float64(1) {
		t.Errorf("order=Asc: %v", q.field("version"))
	}
	if got := vs.list(); len(got) != 2 || !strings.Contains(got[0].Error(), `parameter "order"`) {
		t.Errorf("violations %v, want the two upper-case orders", got)
	}
	r := c.send("GET", "/api/v1/events/query?tenant_id=default&order=newest", nil)
	if r.status != http.StatusBadRequest || !strings.HasPrefix(r.object(t)["error"].(string), "Invalid input: ") {
		t.Errorf("order=newest: %d %s", r.status, r.body)
	}
	q = c.query("tenant_id=default&offset=1000")
	if q.Count != 0 || q.TotalCount != 150 || q.HasMore {
		t.Errorf("offset past end: %+v", q)
	}
}

// Reference §5.3: entity_version is present only when entity_id was given.
func TestQuery_EntityVersion_Ref5_3(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	seedOrders(t, c)
	q := c.query("tenant_id=default&entity_id=o1&limit=1")
	if q.EntityVersion == nil || *q.EntityVersion != 3 {
		t.Errorf("entity_version %v, want 3", q.EntityVersion)
	}
	if q := c.query("tenant_id=default"); q.EntityVersion != nil {
		t.Errorf("entity_version %v without entity_id", *q.EntityVersion)
	}
	if q := c.query("tenant_id=default&entity_id=nobody"); q.EntityVersion == nil || *q.EntityVersion != 0 {
		t.Errorf("unknown entity: entity_version %v, want 0", q.EntityVersion)
	}
}

// Reference §5.3: without tenant_id the caller's tenant is used; with no
// tenant at all the result is empty (fail-closed), not an error.
func TestQuery_TenantFallbackFailClosed_Ref5_3(t *testing.T) {
	s := newTestServer(t, WithTenantAPIKey("ask_acme", "acme"))
	c := coreClient(t, s)
	seedOrders(t, c)
	c.ingest("x.y", "a1", 1, "tenant_id", "acme")
	if q := c.query(""); q.TotalCount != 6 {
		t.Errorf("key of tenant default: total %d, want 6", q.TotalCount)
	}
	acme := &apiClient{t: t, base: s.URL, key: "ask_acme"}
	assertTypes(t, acme.query(""), "x.y/a1")
	dev := NewTestServer(t, WithDevMode())
	dc := &apiClient{t: t, base: dev.URL}
	dc.ingest("x.y", "e", 1)
	if q := dc.query(""); q.TotalCount != 0 || q.Events == nil {
		t.Errorf("dev-tenant query saw %d events of tenant default (events %v)", q.TotalCount, q.Events)
	}
}

// Reference §5.3: integrity=retained-entity-v1 is a strict archive read
// of one entity that requires tenant_id, entity_id and a limit of 1 to
// 1001, allows nothing else, and carries archive_integrity.
func TestQuery_IntegrityRead_Ref5_3(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	seedOrders(t, c)
	base := "tenant_id=default&entity_id=o1&integrity=retained-entity-v1"
	var res struct {
		queryResp
		ArchiveIntegrity map[string]string `json:"archive_integrity"`
	}
	c.must(http.StatusOK, "GET", "/api/v1/events/query?"+base+"&limit=2", nil).decode(t, &res)
	if res.Count != 2 || res.TotalCount != 3 || !res.HasMore || res.ArchiveIntegrity["protocol"] != "retained-entity-v1" ||
		res.ArchiveIntegrity["tenant_id"] != "default" || res.ArchiveIntegrity["entity_id"] != "o1" {
		t.Errorf("integrity read %+v", res)
	}
	if q := c.query("tenant_id=default&entity_id=o1"); q.Count != 3 {
		t.Errorf("plain read %+v", q)
	}
	for _, bad := range []string{
		"entity_id=o1&integrity=retained-entity-v1&limit=1",
		"tenant_id=default&integrity=retained-entity-v1&limit=1",
		base,
		base + "&limit=0",
		base + "&limit=1002",
		base + "&limit=5&offset=1",
		base + "&limit=5&order=desc",
		base + "&limit=5&event_type=order.paid",
		base + "&limit=5&since=2026-01-01T00:00:00Z",
	} {
		r := c.send("GET", "/api/v1/events/query?"+bad, nil)
		if r.status != http.StatusBadRequest || !strings.HasPrefix(r.object(t)["error"].(string), "Invalid input: ") {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
}

// The query engine (index paging and scans) agrees with a brute-force
// evaluation of reference §5.3's rules over random queries.
func TestQuery_EngineMatchesBruteForce_Ref5_3(t *testing.T) {
	s := NewServer()
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	types := []string{"a.x", "a.y", "b.y", "ab.z"}
	evs := make([]SeedEvent, 3000)
	for i := range evs {
		evs[i] = SeedEvent{
			Type:     types[rng.IntN(len(types))],
			EntityID: "e" + itoa(rng.IntN(7)),
			TenantID: []string{"default", "default", "acme"}[rng.IntN(3)],
			Payload:  json.RawMessage(`{"k":` + itoa(rng.IntN(3)) + `}`),
		}
	}
	if _, err := s.Seed(evs...); err != nil {
		t.Fatal(err)
	}
	st := s.store
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	for n := 0; n < 500; n++ {
		q := newQuery()
		q.tenant = pick("default", "acme", "nobody")
		if q.entityID = pick("", "e1", "e4", "e9"); q.entityID != "" {
			q.hasEntity = true
		}
		q.eventType = pick("", "", "a.x", "b.y", "zz")
		q.typePrefix = pick("", "", "a.", "a", "b")
		if x := pick("", "", "a.y", "b,ab"); x != "" {
			q.excludes = strings.Split(x, ",")
		}
		if rng.IntN(3) == 0 {
			q.payloadFilter = map[string]json.RawMessage{"k": json.RawMessage(itoa(rng.IntN(3)))}
		}
		if rng.IntN(3) == 0 {
			q.since = st.rec(rng.IntN(st.n)).ts
		}
		if rng.IntN(3) == 0 {
			q.until = st.rec(rng.IntN(st.n)).ts
		}
		q.offset = rng.IntN(50)
		if rng.IntN(2) == 0 {
			q.limit = rng.IntN(40)
		}
		q.desc = rng.IntN(2) == 0

		st.mu.RLock()
		got := st.run(&q)
		var want []int32
		for pos := 0; pos < st.n; pos++ {
			ev := st.event(pos)
			usePrefix := q.typePrefix != "" && !(q.eventType != "" && !q.hasEntity)
			ok := ev.TenantID == q.tenant &&
				(!q.hasEntity || ev.EntityID == q.entityID) &&
				(q.eventType == "" || ev.EventType == q.eventType) &&
				(!usePrefix || strings.HasPrefix(ev.EventType, q.typePrefix)) &&
				ev.Timestamp.UnixNano() >= q.since && ev.Timestamp.UnixNano() <= q.until
			for _, x := range q.excludes {
				ok = ok && !strings.HasPrefix(ev.EventType, x)
			}
			if ok && q.payloadFilter != nil {
				ok = payloadMatches(ev.Payload, decodeFilter(q.payloadFilter))
			}
			if ok {
				want = append(want, int32(pos))
			}
		}
		st.mu.RUnlock()
		total := len(want)
		if q.desc {
			slices.Reverse(want)
		}
		want = window(want, q.offset, q.limit, q.limit >= 0)
		if got.total != total || !slices.Equal(got.page, want) && !(len(got.page) == 0 && len(want) == 0) {
			t.Fatalf("query %+v:\ngot total %d page %v\nwant total %d page %v", q, got.total, got.page, total, want)
		}
	}
}

// Reference §3: Axum's plain-text 400s for a query string or path it
// cannot read, and a repeated tenant_id.
func TestQuery_PlainTextRejections_Ref3(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	for _, path := range []string{
		"/api/v1/events/query?tenant_id=default&limit=-1",
		"/api/v1/events/query?tenant_id=default&offset=x",
		"/api/v1/events/query?tenant_id=a&tenant_id=b",
		"/api/v1/events/not-a-uuid",
		"/api/v1/consumers/c/events?limit=many",
	} {
		r := c.must(http.StatusBadRequest, "GET", path, nil)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || len(r.body) == 0 {
			t.Errorf("%s: %s %q", path, r.header.Get("Content-Type"), r.body)
		}
	}
	// Unknown parameters are ignored.
	c.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default&sort=desc&whatever=1", nil)
}
