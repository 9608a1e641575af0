package coretest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Contract tests for the points where the server once differed from Core
// (reference §14). Each cites the behaviour of Core it pins.

// Core: JSON bodies are limited to 2 MiB by the HTTP framework's default; a
// larger body gets 413 in plain text, on every JSON-body route (reference
// §14 #1).
func TestBodyLimit_2MiB_Ref14_1(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	pad := func(n int) string { return strings.Repeat("x", n) }
	// A body of exactly 2 MiB is accepted.
	prefix := `{"event_type":"a.b","entity_id":"e","payload":"`
	exact := prefix + pad(2<<20-len(prefix)-2) + `"}`
	if len(exact) != 2<<20 {
		t.Fatalf("test body is %d bytes", len(exact))
	}
	c.must(http.StatusOK, "POST", "/api/v1/events", exact)
	over := prefix + pad(2<<20-len(prefix)-1) + `"}`
	for _, path := range []string{
		"/api/v1/events", "/api/v1/events/batch", "/api/v1/projections/p/bulk/save",
		"/api/v1/projections/p/bulk", "/api/v1/projections/p/e/state", "/api/v1/consumers",
		"/api/v1/consumers/c/ack",
	} {
		r := c.must(http.StatusRequestEntityTooLarge, "POST", path, over)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: 413 content type %q, want plain text", path, ct)
		}
		if string(r.body) != "Failed to buffer the request body: length limit exceeded" {
			t.Errorf("%s: 413 body %q", path, r.body)
		}
	}
	if n := s.EventCount(); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

// Core: the cursor moves only when the acked position is greater than the
// current one, no cursor counting as 0, so an ack of 0 on a new consumer
// answers 200 and leaves cursor_position null (reference §14 #3).
func TestAckZero_LeavesCursorNull_Ref14_3(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("a.b", "e", 1)
	r := c.must(http.StatusOK, "POST", "/api/v1/consumers/fresh/ack", map[string]any{"position": 0})
	if b := r.object(t); b["status"] != "ok" || b["position"] != float64(0) {
		t.Errorf("ack body %s", r.body)
	}
	got := c.must(http.StatusOK, "GET", "/api/v1/consumers/fresh", nil).object(t)
	if v, ok := got["cursor_position"]; !ok || v != nil {
		t.Errorf("cursor_position after an ack of 0: %v (present %v), want null", v, ok)
	}
	c.must(http.StatusOK, "POST", "/api/v1/consumers/fresh/ack", map[string]any{"position": 1})
	got = c.must(http.StatusOK, "GET", "/api/v1/consumers/fresh", nil).object(t)
	if got["cursor_position"] != float64(1) {
		t.Errorf("cursor_position after an ack of 1: %v", got["cursor_position"])
	}
}

// Core: serde's derived deserializer refuses a struct member given twice
// with 422 in plain text, in nested items too; unknown members and members
// of free-form values may repeat (reference §14 #6).
func TestDuplicatedMember_422_Ref14_6(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	cases := []struct {
		path, body, want string
	}{
		{"/api/v1/events", `{"event_type":"a.b","event_type":"a.c","entity_id":"e","payload":{}}`, "duplicate field `event_type`"},
		{"/api/v1/events/batch", `{"events":[{"event_type":"a.b","entity_id":"e","payload":{}},{"event_type":"a.b","entity_id":"e","entity_id":"f","payload":{}}]}`, "events[1]: duplicate field `entity_id`"},
		{"/api/v1/projections/p/bulk/save", `{"states":[{"entity_id":"e","state":1,"state":2}]}`, "states[0]: duplicate field `state`"},
		{"/api/v1/consumers/c/ack", `{"position":0,"position":0}`, "duplicate field `position`"},
		{"/api/v1/consumers", `{"consumer_id":"a","consumer_id":"b"}`, "duplicate field `consumer_id`"},
	}
	for _, tc := range cases {
		r := c.must(http.StatusUnprocessableEntity, "POST", tc.path, tc.body)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: content type %q", tc.path, ct)
		}
		if !strings.Contains(string(r.body), tc.want) {
			t.Errorf("%s: body %q does not name %q", tc.path, r.body, tc.want)
		}
	}
	if n := s.EventCount(); n != 0 {
		t.Errorf("%d events stored", n)
	}
	// Repeats that serde accepts.
	c.must(http.StatusOK, "POST", "/api/v1/events", `{"event_type":"a.b","entity_id":"e","payload":{"k":1,"k":2},"x":1,"x":2}`)
}

// Core: the CORS layer allows any origin, method and header, answers a
// preflight with 200 before authentication, and adds
// Access-Control-Allow-Origin to responses to requests with an Origin
// (reference §14 #7).
func TestCORS_Ref14_7(t *testing.T) {
	s := newTestServer(t)
	anon := &apiClient{t: t, base: s.URL}
	r := anon.must(http.StatusOK, "OPTIONS", "/api/v1/events", nil,
		"Origin", "https://app.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type")
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
	}
	if r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight allows credentials")
	}
	c := coreClient(t, s)
	r = c.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default", nil, "Origin", "https://app.example")
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("response to a request with Origin: Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
	}
	r = anon.must(http.StatusUnauthorized, "GET", "/api/v1/events/query", nil, "Origin", "https://app.example")
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("401 to a request with Origin lacks Access-Control-Allow-Origin")
	}
	r = c.must(http.StatusOK, "GET", "/health", nil)
	if v := r.header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("response to a request without Origin: Access-Control-Allow-Origin %q", v)
	}
}

// Core: an unknown path gets 404 with an empty body; a known path with
// another method 405 (reference §14 #8).
func TestUnknownPath_404Empty_Ref14_8(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	for _, p := range []string{"/nope", "/api/v1/nothing/here", "/api/v1/events/query/extra"} {
		r := c.must(http.StatusNotFound, "GET", p, nil)
		if len(r.body) != 0 {
			t.Errorf("GET %s: body %q, want empty", p, r.body)
		}
	}
	r := c.must(http.StatusMethodNotAllowed, "DELETE", "/api/v1/events/query", nil)
	if len(r.body) != 0 {
		t.Errorf("405 body %q, want empty", r.body)
	}
}

// Core: a query whose tenant_id is empty fails closed with the empty
// result and no entity_version, dev mode included (reference §14 #9).
func TestQuery_EmptyTenant_Ref14_9(t *testing.T) {
	for _, dev := range []bool{false, true} {
		t.Run(fmt.Sprintf("dev=%v", dev), func(t *testing.T) {
			// The spec admits no empty tenant_id: this request breaks it on
			// purpose to reach Core's behaviour.
			opts := []Option{WithSpecValidation(func(err error) {
				if !strings.Contains(err.Error(), `parameter "tenant_id"`) {
					t.Errorf("coretest: spec violation: %v", err)
				}
			})}
			if dev {
				opts = append(opts, WithDevMode())
			}
			s := newTestServer(t, opts...)
			c := coreClient(t, s)
			c.ingest("a.b", "e", 1)
			c.ingest("a.b", "e", 1, "tenant_id", "dev-tenant")
			r := c.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=&entity_id=e", nil)
			if string(r.body) != `{"events":[],"count":0,"total_count":0,"has_more":false}` {
				t.Errorf("body %s", r.body)
			}
		})
	}
}

// Core: GET /api/v1/entities/{id}/snapshot accepts as_of, and a malformed
// value is a 400 (reference §14 #10).
func TestSnapshot_AsOf_Ref14_10(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("a.b", "e", map[string]any{"n": 1})
	ts := c.ingest("a.b", "e", map[string]any{"m": 2})["timestamp"].(string)
	c.ingest("a.b", "e", map[string]any{"n": 3})
	body := c.must(http.StatusOK, "GET", "/api/v1/entities/e/snapshot?tenant_id=default&as_of="+ts, nil).object(t)
	if body["event_count"] != float64(2) || body["as_of"] != ts {
		t.Errorf("snapshot as of the second event: %v", body)
	}
	if st, _ := body["current_state"].(map[string]any); st["n"] != float64(1) || st["m"] != float64(2) {
		t.Errorf("state as of the second event: %v", body["current_state"])
	}
	c.must(http.StatusBadRequest, "GET", "/api/v1/entities/e/snapshot?tenant_id=default&as_of=yesterday", nil)
}

// Core's exact error texts (reference §14 #11).
func TestErrorTexts_Ref14_11(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	cases := []struct{ method, path, body, want string }{
		{"POST", "/api/v1/events", `{"event_type":"_system.x","entity_id":"e","payload":{}}`,
			"Validation error: Event types starting with '_system.' are reserved for internal use"},
		{"GET", "/api/v1/events/query?tenant_id=default&order=sideways", "",
			"Invalid input: invalid 'order' value 'sideways': expected 'asc' or 'desc'"},
		{"GET", "/api/v1/events/query?tenant_id=default&payload_filter=[1]", "",
			"Invalid input: invalid 'payload_filter': expected a JSON object of field/value pairs, got '[1]'"},
	}
	for _, tc := range cases {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		r := c.must(http.StatusBadRequest, tc.method, tc.path, body)
		if got, _ := r.object(t)["error"].(string); got != tc.want {
			t.Errorf("%s %s: error %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}
