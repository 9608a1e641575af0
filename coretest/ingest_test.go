package coretest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Reference §4.1 and §5.2: the ingest response and the stored event's wire
// shape (every member present, metadata null when absent, RFC 3339 UTC
// timestamps, tenant "default").
func TestIngest_ResponseAndEventShape_Ref4_1(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	before := time.Now().UTC()
	res := c.ingest("user.created", "user-1", map[string]any{"name": "Ada"})
	if !uuidV4.MatchString(res["event_id"].(string)) {
		t.Errorf("event_id %v is not a UUID v4", res["event_id"])
	}
	ts, err := time.Parse(time.RFC3339Nano, res["timestamp"].(string))
	if err != nil || !strings.HasSuffix(res["timestamp"].(string), "Z") {
		t.Fatalf("timestamp %v: not RFC 3339 UTC: %v", res["timestamp"], err)
	}
	if ts.Before(before.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("timestamp %v is not server time", ts)
	}
	if res["version"] != float64(1) {
		t.Errorf("version %v, want 1", res["version"])
	}
	r := c.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default&entity_id=user-1", nil)
	want := `{"id":"` + res["event_id"].(string) + `","event_type":"user.created","entity_id":"user-1","tenant_id":"default","payload":{"name":"Ada"},"timestamp":"` + res["timestamp"].(string) + `","metadata":null,"version":1}`
	if !strings.Contains(string(r.body), want) {
		t.Errorf("query body %s\nwant event %s", r.body, want)
	}
	c.ingest("user.created", "user-2", []any{1, "two"}, "metadata", map[string]any{"source": "test"}, "tenant_id", "acme")
	q := c.query("tenant_id=acme")
	if q.Count != 1 || q.Events[0]["tenant_id"] != "acme" {
		t.Fatalf("acme events %+v", q.Events)
	}
	if m, ok := q.Events[0]["metadata"].(map[string]any); !ok || m["source"] != "test" {
		t.Errorf("metadata %v", q.Events[0]["metadata"])
	}
	if p, ok := q.Events[0]["payload"].([]any); !ok || len(p) != 2 {
		t.Errorf("non-object payload not stored verbatim: %v", q.Events[0]["payload"])
	}
}

// Reference §4.1: per-entity versions start at 1 and count per entity.
// Core: the counter is keyed by entity id alone, across tenants (reference
// §14 #2), so tenant "other"'s first event on e1 gets version 4.
func TestIngest_PerEntityVersions_Ref4_1(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	for i, want := range []float64{1, 2, 3} {
		if v := c.ingest("a.b", "e1", map[string]any{"i": i})["version"]; v != want {
			t.Fatalf("e1 event %d: version %v, want %v", i, v, want)
		}
	}
	if v := c.ingest("a.b", "e2", map[string]any{})["version"]; v != float64(1) {
		t.Fatalf("e2: version %v, want 1", v)
	}
	if v := c.ingest("a.b", "e1", map[string]any{}, "tenant_id", "other")["version"]; v != float64(4) {
		t.Fatalf("e1 in tenant other: version %v, want 4", v)
	}
}

// Core: tenant B's expected_version conflicts follow from the counter kept
// across tenants, and a query's entity_version is the shared counter for
// either tenant (reference §14 #2, store.rs entity_versions).
func TestIngest_VersionCounterAcrossTenants_Ref14_2(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("a.b", "s", map[string]any{}, "tenant_id", "ta")
	r := c.must(http.StatusConflict, "POST", "/api/v1/events", ev{"event_type": "a.b", "entity_id": "s", "payload": 1, "tenant_id": "tb", "expected_version": 0})
	if b := r.object(t); b["expected_version"] != float64(0) || b["current_version"] != float64(1) {
		t.Errorf("tenant b create-only: conflict body %s", r.body)
	}
	if v := c.ingest("a.b", "s", map[string]any{}, "tenant_id", "tb", "expected_version", 1)["version"]; v != float64(2) {
		t.Fatalf("tenant b at expected version 1: version %v, want 2", v)
	}
	for _, tenant := range []string{"ta", "tb"} {
		q := c.query("tenant_id=" + tenant + "&entity_id=s")
		if q.Count != 1 || q.EntityVersion == nil || *q.EntityVersion != 2 {
			t.Errorf("tenant %s: %d events, entity_version %v; want 1 event and entity_version 2", tenant, q.Count, q.EntityVersion)
		}
	}
}

// Reference §4.2 and §3: validation rules with Core's 400 body
// {"error":"Invalid input: ..."}.
func TestIngest_ValidationRules_Ref4_2(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	long := strings.Repeat("a", 129)
	cases := []struct {
		name  string
		body  ev
		valid bool
	}{
		{"type ok", ev{"event_type": "order_v2.placed.9", "entity_id": "e"}, true},
		{"type empty", ev{"event_type": "", "entity_id": "e"}, false},
		{"type uppercase", ev{"event_type": "Order.placed", "entity_id": "e"}, false},
		{"type dash", ev{"event_type": "order-placed", "entity_id": "e"}, false},
		{"type leading dot", ev{"event_type": ".order", "entity_id": "e"}, false},
		{"type trailing dot", ev{"event_type": "order.", "entity_id": "e"}, false},
		{"type double dot", ev{"event_type": "order..placed", "entity_id": "e"}, false},
		{"type 128", ev{"event_type": long[:128], "entity_id": "e"}, true},
		{"type 129", ev{"event_type": long, "entity_id": "e"}, false},
		{"type reserved", ev{"event_type": "_system.consumer", "entity_id": "e"}, false},
		// Core: char::is_lowercase admits Unicode lowercase letters (reference §14 #5).
		{"type unicode lowercase", ev{"event_type": "заказ.créé", "entity_id": "e"}, true},
		{"type unicode uppercase", ev{"event_type": "заказ.Créé", "entity_id": "e"}, false},
		{"entity free-form", ev{"event_type": "a", "entity_id": "user:1@x/y z"}, true},
		{"entity empty", ev{"event_type": "a", "entity_id": ""}, false},
		{"entity spaces", ev{"event_type": "a", "entity_id": "   "}, false},
		{"entity leading space", ev{"event_type": "a", "entity_id": " e"}, false},
		{"entity control", ev{"event_type": "a", "entity_id": "e\x01"}, false},
		{"entity 128", ev{"event_type": "a", "entity_id": long[:128]}, true},
		// Core counts the entity id's length in bytes (reference §14 #4).
		{"entity 128 bytes", ev{"event_type": "a", "entity_id": strings.Repeat("é", 64)}, true},
		{"entity 65 chars 130 bytes", ev{"event_type": "a", "entity_id": strings.Repeat("é", 65)}, false},
		{"entity 129", ev{"event_type": "a", "entity_id": long}, false},
		{"tenant ok", ev{"event_type": "a", "entity_id": "e", "tenant_id": "Acme_1-x"}, true},
		// Core: char::is_alphanumeric admits Unicode letters and digits (reference §14 #5).
		{"tenant unicode", ev{"event_type": "a", "entity_id": "e", "tenant_id": "Zürich_東京"}, true},
		{"tenant empty", ev{"event_type": "a", "entity_id": "e", "tenant_id": ""}, false},
		{"tenant dot", ev{"event_type": "a", "entity_id": "e", "tenant_id": "acme.io"}, false},
		{"tenant 65", ev{"event_type": "a", "entity_id": "e", "tenant_id": strings.Repeat("t", 65)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["payload"] = map[string]any{}
			r := c.send("POST", "/api/v1/events", tc.body)
			if tc.valid {
				if r.status != http.StatusOK {
					t.Fatalf("status %d, want 200: %s", r.status, r.body)
				}
				return
			}
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			msg, _ := r.object(t)["error"].(string)
			want := "Invalid input: "
			if tc.name == "type reserved" {
				// Core's exact text (reference §14 #11).
				want = "Validation error: Event types starting with '_system.' are reserved for internal use"
			}
			if !strings.HasPrefix(msg, want) {
				t.Errorf("error %q does not start with %q", msg, want)
			}
		})
	}
}

// Reference §3: Axum's plain-text extractor rejections for a missing
// member (422), malformed JSON (400) and a wrong content type (415).
func TestIngest_ExtractorRejections_Ref3(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	r := c.send("POST", "/api/v1/events", ev{"event_type": "a", "entity_id": "e"})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "missing field `payload`") {
		t.Errorf("missing payload: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("missing payload: content type %q", ct)
	}
	// Missing is 422; present but empty is the 400 of the validation rules.
	r = c.send("POST", "/api/v1/events", ev{"entity_id": "e", "payload": 1})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "missing field `event_type`") {
		t.Errorf("missing event_type: %d %s", r.status, r.body)
	}
	c.must(http.StatusBadRequest, "POST", "/api/v1/events", ev{"event_type": "", "entity_id": "e", "payload": 1})
	r = c.send("POST", "/api/v1/events/batch", map[string]any{"events": []ev{
		{"event_type": "a", "entity_id": "", "payload": 1},
		{"event_type": "a", "payload": 1},
	}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "events[1]: missing field `entity_id`") {
		t.Errorf("batch item without entity_id: %d %s", r.status, r.body)
	}
	r = c.send("POST", "/api/v1/events/batch", map[string]any{"events": []ev{{"event_type": "a", "entity_id": "", "payload": 1}}})
	if r.status != http.StatusBadRequest {
		t.Errorf("batch item with empty entity_id: %d %s", r.status, r.body)
	}
	r = c.send("POST", "/api/v1/events", []byte(`{"event_type":`))
	if r.status != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d %s", r.status, r.body)
	}
	r = c.send("POST", "/api/v1/events", []byte(`{"event_type":"a","entity_id":"e","payload":{}}`), "Content-Type", "text/plain")
	if r.status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d %s", r.status, r.body)
	}
	r = c.send("POST", "/api/v1/events", ev{"event_type": "a", "entity_id": "e", "payload": 1, "expected_version": -1})
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("negative expected_version: %d %s", r.status, r.body)
	}
}

// Reference §3 and §5.2: expected_version mismatch is 409 with
// {"error":"version_conflict","expected_version":N,"current_version":M};
// expected_version 0 means "create only if absent".
func TestIngest_ExpectedVersionConflict_Ref5_2(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	if v := c.ingest("a.b", "e", map[string]any{}, "expected_version", 0)["version"]; v != float64(1) {
		t.Fatalf("create-only: version %v", v)
	}
	r := c.must(http.StatusConflict, "POST", "/api/v1/events", ev{"event_type": "a.b", "entity_id": "e", "payload": 1, "expected_version": 0})
	body := r.object(t)
	if body["error"] != "version_conflict" || body["expected_version"] != float64(0) || body["current_version"] != float64(1) {
		t.Errorf("conflict body %s", r.body)
	}
	if v := c.ingest("a.b", "e", map[string]any{}, "expected_version", 1)["version"]; v != float64(2) {
		t.Fatalf("expected 1: version %v", v)
	}
	r = c.must(http.StatusConflict, "POST", "/api/v1/events", ev{"event_type": "a.b", "entity_id": "e", "payload": 1, "expected_version": 7})
	if b := r.object(t); b["expected_version"] != float64(7) || b["current_version"] != float64(2) {
		t.Errorf("conflict body %s", r.body)
	}
	if q := c.query("tenant_id=default&entity_id=e"); q.Count != 2 {
		t.Errorf("conflicting writes were stored: %d events", q.Count)
	}
}

// Reference §5.2: a batch answers {"total","ingested","events":[...]} and
// is not atomic: items before the failing one stay stored, and the request
// fails with that item's error.
func TestIngestBatch_NotAtomic_Ref5_2(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	r := c.must(http.StatusOK, "POST", "/api/v1/events/batch", map[string]any{"events": []ev{
		{"event_type": "a.one", "entity_id": "e", "payload": 1},
		{"event_type": "a.two", "entity_id": "e2", "payload": 2, "tenant_id": "t2"},
		{"event_type": "a.three", "entity_id": "e", "payload": 3, "expected_version": 1},
	}})
	var ok struct {
		Total, Ingested int
		Events          []struct {
			EventID   string `json:"event_id"`
			Timestamp string
			Version   int
		}
	}
	r.decode(t, &ok)
	if ok.Total != 3 || ok.Ingested != 3 || len(ok.Events) != 3 {
		t.Fatalf("batch response %s", r.body)
	}
	if ok.Events[0].Version != 1 || ok.Events[1].Version != 1 || ok.Events[2].Version != 2 {
		t.Errorf("versions %+v (tenant honoured per item)", ok.Events)
	}
	r = c.must(http.StatusConflict, "POST", "/api/v1/events/batch", map[string]any{"events": []ev{
		{"event_type": "b.one", "entity_id": "x", "payload": 1},
		{"event_type": "b.two", "entity_id": "x", "payload": 2, "expected_version": 5},
		{"event_type": "b.three", "entity_id": "x", "payload": 3},
	}})
	if b := r.object(t); b["error"] != "version_conflict" || b["current_version"] != float64(1) {
		t.Errorf("conflict body %s", r.body)
	}
	q := c.query("tenant_id=default&entity_id=x")
	if q.Count != 1 || q.Events[0]["event_type"] != "b.one" {
		t.Errorf("after failed batch: %+v, want only b.one", q.field("event_type"))
	}
	c.must(http.StatusBadRequest, "POST", "/api/v1/events/batch", map[string]any{"events": []ev{
		{"event_type": "c.one", "entity_id": "y", "payload": 1},
		{"event_type": "C.TWO", "entity_id": "y", "payload": 2},
	}})
	if q := c.query("tenant_id=default&entity_id=y"); q.Count != 1 {
		t.Errorf("after invalid item: %d events, want 1", q.Count)
	}
}

// Reference §5.3 orders by (timestamp, version, position): the server
// keeps timestamps strictly increasing with position, so time windows and
// that order agree even when the clock stands still.
func TestIngest_TimestampsStrictlyIncrease_Ref5_3(t *testing.T) {
	frozen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newTestServer(t, WithClock(func() time.Time { return frozen }))
	c := coreClient(t, s)
	var stamps []string
	for i := 0; i < 3; i++ {
		stamps = append(stamps, c.ingest("a.b", "e", i)["timestamp"].(string))
	}
	want := []string{"2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000001Z", "2026-01-01T00:00:00.000000002Z"}
	for i := range want {
		if stamps[i] != want[i] {
			t.Errorf("timestamps %v, want %v", stamps, want)
			break
		}
	}
	q := c.query("tenant_id=default&until=" + stamps[1])
	if q.Count != 2 {
		t.Errorf("until the second timestamp: %d events", q.Count)
	}
}

// Large payloads (stored outside the shared arena chunks) and metadata
// round-trip byte for byte, also across a restart.
func TestIngest_LargePayloadRoundTrip_Ref4_1(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, WithDataDir(dir))
	c := coreClient(t, s)
	big := strings.Repeat("x", 3<<19) // over a quarter arena chunk, under Core's 2 MiB body limit
	c.ingest("a.small", "e", map[string]any{"n": 1}, "metadata", map[string]any{"m": "before"})
	id := c.ingest("a.big", "e", map[string]any{"blob": big}, "metadata", map[string]any{"m": "big"})["event_id"].(string)
	c.ingest("a.small", "e", map[string]any{"n": 2})
	check := func(c *apiClient) {
		t.Helper()
		q := c.query("tenant_id=default&entity_id=e")
		if q.Count != 3 || q.Events[1]["id"] != id || q.Events[1]["payload"].(map[string]any)["blob"] != big ||
			q.Events[1]["metadata"].(map[string]any)["m"] != "big" || q.Events[0]["metadata"].(map[string]any)["m"] != "before" ||
			q.Events[2]["metadata"] != nil || q.Events[2]["payload"].(map[string]any)["n"] != float64(2) {
			t.Fatalf("events after a large payload: %d events", q.Count)
		}
	}
	check(c)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(coreClient(t, newTestServer(t, WithDataDir(dir))))
}
