package coretest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The validator reports a response that breaks the spec: a missing
// required member and an undocumented status.
func TestSpecValidation_ReportsResponseViolations(t *testing.T) {
	var vs violations
	v, err := newSpecValidator(vs.report)
	if err != nil {
		t.Fatal(err)
	}
	op := &operation{svc: serviceCore, id: "ingestEvent", method: "POST", pattern: "/api/v1/events"}
	req := httptest.NewRequest("POST", "/api/v1/events", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	check := func(status int, body string) {
		rec := newRecorder()
		rec.header.Set("Content-Type", "application/json")
		rec.status = status
		rec.body.WriteString(body)
		v.checkResponse(req, op, []byte(`{}`), rec)
	}
	check(http.StatusOK, `{"event_id":"6c3f8a52-0c7e-4b4e-9a57-0d1c9a7e2b11","timestamp":"2026-01-01T00:00:00Z","version":1}`)
	if got := vs.list(); len(got) != 0 {
		t.Fatalf("valid response reported: %v", got)
	}
	check(http.StatusOK, `{"event_id":"6c3f8a52-0c7e-4b4e-9a57-0d1c9a7e2b11","timestamp":"2026-01-01T00:00:00Z"}`)
	check(http.StatusTeapot, `{"error":"teapot"}`)
	got := vs.list()
	if len(got) != 2 || !strings.Contains(got[0].Error(), "version") || !strings.Contains(got[1].Error(), "418") {
		t.Fatalf("violations %v", got)
	}
}

// The validator reports a request that breaks the spec only when the
// server accepts it; a refused one already fails visibly.
func TestSpecValidation_ReportsAcceptedRequestViolationsOnly(t *testing.T) {
	var vs violations
	s := NewServer(WithAPIKeys(testKey), WithSpecValidation(vs.report))
	defer s.Close()
	c := coreClient(t, s)
	c.must(http.StatusBadRequest, "POST", "/api/v1/events", ev{"event_type": "Bad Type", "entity_id": "e", "payload": 1})
	if got := vs.list(); len(got) != 0 {
		t.Fatalf("refused request reported: %v", got)
	}
	// Core accepts an upper-case order and an empty consumer_id, which
	// the spec forbids.
	c.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default&limit=5&order=DESC", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/api/v1/events/stream?consumer_id=",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + testKey}}})
	if err != nil {
		t.Fatal(err)
	}
	ws.CloseNow()
	got := vs.list()
	if len(got) != 2 || !strings.Contains(got[0].Error(), "order") || !strings.Contains(got[1].Error(), "consumer_id") {
		t.Fatalf("violations %v, want the accepted order=DESC and consumer_id=", got)
	}
}

// Stream frames are validated against the x-websocket frame schemas.
func TestSpecValidation_StreamFrames(t *testing.T) {
	var vs violations
	v, err := newSpecValidator(vs.report)
	if err != nil {
		t.Fatal(err)
	}
	event := `{"id":"6c3f8a52-0c7e-4b4e-9a57-0d1c9a7e2b11","event_type":"a.b","entity_id":"e","tenant_id":"default","payload":{},"timestamp":"2026-01-01T00:00:00Z","metadata":null,"version":1}`
	for _, ok := range []string{
		`{"type":"replay","position":1,"event":` + event + `}`,
		`{"type":"replay_complete","replayed":0}`,
		`{"type":"lagged","missed":3}`,
		event,
		`[` + event + `]`,
	} {
		v.checkFrame([]byte(ok))
	}
	if got := vs.list(); len(got) != 0 {
		t.Fatalf("valid frames reported: %v", got)
	}
	for _, bad := range []string{
		`{"type":"replay","position":"1","event":` + event + `}`,
		`{"type":"replay_complete"}`,
		`{"type":"mystery"}`,
		`{"id":"x"}`,
		`[1]`,
	} {
		v.checkFrame([]byte(bad))
	}
	if got := vs.list(); len(got) != 5 {
		t.Fatalf("%d violations for 5 bad frames: %v", len(got), got)
	}
}

// The server serves exactly the operations of core.yaml and query.yaml,
// under the spec's operationIds.
func TestSpecValidation_EveryOperationServed(t *testing.T) {
	docs, err := loadSpecs()
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer()
	defer s.Close()
	for svc, ops := range map[service][]operation{serviceCore: s.coreOperations(), serviceQuery: s.queryOperations()} {
		served := make(map[string]string)
		for _, op := range ops {
			served[op.method+" "+op.pattern] = op.id
		}
		inSpec := 0
		for path, item := range docs[svc].Paths.Map() {
			for method, op := range item.Operations() {
				inSpec++
				if id, ok := served[method+" "+path]; !ok || id != op.OperationID {
					t.Errorf("%s: %s %s (%s) served as %q", svc, method, path, op.OperationID, id)
				}
			}
		}
		if inSpec != len(ops) {
			t.Errorf("%s: %d operations in the spec, %d served", svc, inSpec, len(ops))
		}
	}
}

// WithStrictRequests reports refused spec-breaking requests too.
func TestSpecValidation_StrictRequests(t *testing.T) {
	var vs violations
	s := NewServer(WithAPIKeys(testKey), WithSpecValidation(vs.report), WithStrictRequests())
	defer s.Close()
	c := coreClient(t, s)
	c.must(http.StatusBadRequest, "POST", "/api/v1/events", ev{"event_type": "Bad Type", "entity_id": "e", "payload": 1})
	c.must(http.StatusOK, "POST", "/api/v1/events", ev{"event_type": "good.type", "entity_id": "e", "payload": 1})
	if got := vs.list(); len(got) != 1 || !strings.Contains(got[0].Error(), "event_type") {
		t.Fatalf("violations %v, want the refused bad event type", got)
	}
}
