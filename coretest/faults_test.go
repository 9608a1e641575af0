package coretest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// An injected status fails the next n requests of one operation with the
// service's body for it, without processing them, then lets requests
// through.
func TestFaults_InjectStatus(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	s.Inject(Core, "ingestEvent", 2, Fault{Status: http.StatusServiceUnavailable})
	s.Inject(Core, "queryEvents", 1, Fault{Status: http.StatusTooManyRequests})
	for i := 0; i < 2; i++ {
		r := c.must(http.StatusServiceUnavailable, "POST", "/api/v1/events", ev{"event_type": "a.b", "entity_id": "e", "payload": i})
		if _, ok := r.object(t)["error"].(string); !ok || r.header.Get("Retry-After") != "1" {
			t.Errorf("503 %s %v", r.body, r.header)
		}
	}
	r := c.must(http.StatusTooManyRequests, "GET", "/api/v1/events/query?tenant_id=default", nil)
	if !strings.HasPrefix(string(r.body), "Rate limit exceeded") || r.header.Get("Retry-After") == "" {
		t.Errorf("429 %q %v", r.body, r.header)
	}
	c.ingest("a.b", "e", 3)
	if q := c.query("tenant_id=default"); q.Count != 1 || q.Events[0]["version"] != float64(1) {
		t.Errorf("failed requests were processed: %d events", q.Count)
	}
	s.Inject(Core, "health", 1, Fault{Status: http.StatusInternalServerError})
	c.must(http.StatusInternalServerError, "GET", "/health", nil)
	c.must(http.StatusOK, "GET", "/health", nil)
	s.Inject(Query, "queryEvents", 1, Fault{Status: http.StatusUnauthorized})
	qc := queryClient(t, s)
	r = qc.must(http.StatusUnauthorized, "GET", "/api/v1/events/query", nil)
	if e, _ := r.object(t)["error"].(map[string]any); e["code"] != "unauthorized" {
		t.Errorf("QS injected 401 %s", r.body)
	}
}

// An injected delay for every request slows each response of an operation
// until removed.
func TestFaults_InjectDelay(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	slow := s.Inject(Core, "getStats", 0, Fault{Delay: 150 * time.Millisecond})
	start := time.Now()
	c.must(http.StatusOK, "GET", "/api/v1/stats", nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("delayed response took %v", d)
	}
	// A client that gives up earlier sees a timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/v1/stats", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want deadline exceeded", err)
	}
	slow()
	start = time.Now()
	c.must(http.StatusOK, "GET", "/api/v1/stats", nil)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("cleared delay still applied: %v", d)
	}
}

// A cut body: the request is processed, then half the response is sent
// and the connection closed: the write happened, the client cannot know.
func TestFaults_InjectCutBody(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	s.Inject(Core, "ingestEvents", 1, Fault{CutBody: true})
	body := `{"events":[{"event_type":"a.b","entity_id":"e","payload":1},{"event_type":"a.b","entity_id":"e","payload":2}]}`
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/events/batch", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("headers should arrive: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) == 0 || bytes.HasSuffix(b, []byte("}")) {
		t.Fatalf("read %q, %v; want half a body then unexpected EOF", b, err)
	}
	if q := c.query("tenant_id=default"); q.Count != 2 {
		t.Errorf("cut request was not processed: %d events", q.Count)
	}
	c.must(http.StatusOK, "POST", "/api/v1/events/batch", []byte(body))

	s.Inject(Query, "queryEvents", 1, Fault{CutBody: true})
	req, _ = http.NewRequest("GET", s.QueryURL()+"/api/v1/events/query", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("query service headers should arrive: %v", err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("query service body: %v, want unexpected EOF", err)
	}
	queryClient(t, s).must(http.StatusOK, "GET", "/api/v1/events/query", nil)
}

// DropStreamAfter drops the next stream after n frames without a close
// frame; DropStreams drops every open stream.
func TestFaults_DropStream(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	for i := 0; i < 5; i++ {
		c.ingest("a.b", "e", i)
	}
	s.DropStreamAfter(2)
	ws := dial(t, s, "w")
	ws.nextObject()
	ws.nextObject()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := ws.c.Read(ctx)
	if err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("read after drop: %v, want an abrupt end (no close frame)", err)
	}
	// Only the next stream is affected.
	ws2 := dial(t, s, "w")
	for i := 0; i < 5; i++ {
		ws2.nextObject()
	}
	if f := ws2.nextObject(); f["type"] != "replay_complete" {
		t.Fatalf("sentinel %v", f)
	}
	s.DropStreams()
	if _, _, err := ws2.c.Read(ctx); err == nil {
		t.Fatal("stream survived DropStreams")
	}
}

// Reset removes every control.
func TestFaults_Reset(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	s.Inject(Core, "getStats", 5, Fault{Status: http.StatusBadGateway})
	s.Inject(Core, "getStats", 0, Fault{Delay: time.Hour})
	s.Inject(Core, "getStats", 5, Fault{CutBody: true})
	s.DropStreamAfter(1)
	s.Reset()
	c.must(http.StatusOK, "GET", "/api/v1/stats", nil)
	ws := dial(t, s, "r")
	if f := ws.nextObject(); f["type"] != "replay_complete" {
		t.Fatalf("sentinel %v", f)
	}
	ws.none(50 * time.Millisecond)
}

// Injected failures carry the body the spec documents for the status, for
// every operation: the test server validates them like real responses.
func TestFaults_InjectedBodiesMatchSpec(t *testing.T) {
	var vs violations
	s := NewServer(WithAPIKeys(testKey), WithSpecValidation(vs.report))
	defer s.Close()
	c := coreClient(t, s)
	qc := queryClient(t, s)
	checked := 0
	for _, op := range append(s.coreOperations(), s.queryOperations()...) {
		if op.streaming {
			continue
		}
		for _, status := range []int{400, 401, 402, 404, 409, 415, 422, 429, 500, 503} {
			if !s.specs.documents(&op, status) {
				continue
			}
			path := pathPattern.ReplaceAllString(op.pattern, "x")
			var body any
			if op.method == "POST" || op.method == "PUT" {
				body = map[string]any{}
			}
			if op.svc == serviceQuery {
				s.Inject(Query, op.id, 1, Fault{Status: status})
				qc.must(status, op.method, path, body)
			} else {
				s.Inject(Core, op.id, 1, Fault{Status: status})
				c.must(status, op.method, path, body)
			}
			checked++
		}
	}
	if checked < 100 {
		t.Errorf("only %d documented failures checked", checked)
	}
	for _, err := range vs.list() {
		t.Error(err)
	}
}

var pathPattern = regexp.MustCompile(`\{[^}]+\}`)

// Close does not wait out an injected delay, and returns only after the
// delayed handler has ended.
func TestFaults_CloseDuringDelay(t *testing.T) {
	s := NewServer(WithAPIKeys(testKey))
	s.Inject(Core, "getStats", 0, Fault{Delay: time.Hour})
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", s.URL+"/api/v1/stats", nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		_, err := http.DefaultClient.Do(req)
		errc <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.handlers.mu.Lock()
		running := s.handlers.running
		s.handlers.mu.Unlock()
		if running == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("request never reached the handler")
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := <-errc; err == nil {
		t.Error("delayed request succeeded after Close")
	}
}

// An injected status applies to the WebSocket handshake too.
func TestFaults_FailStreamHandshake(t *testing.T) {
	s := newTestServer(t)
	s.Inject(Core, "streamEvents", 1, Fault{Status: http.StatusServiceUnavailable})
	_, resp, err := dialRaw(s, "w")
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial: %v, %v; want a 503 handshake", err, resp)
	}
	ws := dial(t, s, "w")
	if f := ws.nextObject(); f["type"] != "replay_complete" {
		t.Fatalf("after the failed handshake: %v", f)
	}
}

// Control is the one fault door: a control sees every request of both
// services, is dropped after it handles one unless it keeps itself, may
// drop itself without handling, and can be removed; controls that handle
// the same request combine.
func TestFaults_Control(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	qc := queryClient(t, s)

	// Dropped after handling one request.
	var seen []Request
	s.Control(func(r Request) (Fault, bool) {
		seen = append(seen, r)
		return Fault{Status: http.StatusBadGateway}, r.OperationID == "getStats"
	})
	c.must(http.StatusOK, "GET", "/health", nil)
	c.must(http.StatusBadGateway, "GET", "/api/v1/stats", nil)
	c.must(http.StatusOK, "GET", "/api/v1/stats", nil)
	if len(seen) != 2 || seen[0] != (Request{Service: Core, OperationID: "health", Method: "GET", Path: "/health"}) || seen[1].OperationID != "getStats" {
		t.Fatalf("requests seen %+v", seen)
	}

	// KeepControl keeps it; the service tells Core from the Query Service.
	n := 0
	s.Control(func(r Request) (Fault, bool) {
		if r.Service != Query || r.OperationID != "queryEvents" {
			return Fault{}, false
		}
		if n++; n < 3 {
			s.KeepControl()
		}
		return Fault{Status: http.StatusServiceUnavailable}, true
	})
	c.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default", nil)
	for i := 0; i < 3; i++ {
		qc.must(http.StatusServiceUnavailable, "GET", "/api/v1/events/query", nil)
	}
	qc.must(http.StatusOK, "GET", "/api/v1/events/query", nil)

	// DropControl drops it without handling.
	offered := 0
	s.Control(func(Request) (Fault, bool) {
		offered++
		s.DropControl()
		return Fault{}, false
	})
	c.must(http.StatusOK, "GET", "/health", nil)
	c.must(http.StatusOK, "GET", "/health", nil)
	if offered != 1 {
		t.Fatalf("dropped control offered %d requests", offered)
	}

	// Faults of several controls combine; the remove function removes one.
	s.Inject(Core, "getStats", 1, Fault{Delay: 60 * time.Millisecond})
	s.Inject(Core, "getStats", 1, Fault{Status: http.StatusInternalServerError})
	start := time.Now()
	c.must(http.StatusInternalServerError, "GET", "/api/v1/stats", nil)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("delay and status did not combine: %v", d)
	}
	remove := s.Control(func(r Request) (Fault, bool) {
		s.KeepControl()
		return Fault{Status: http.StatusBadGateway}, r.OperationID == "getStats"
	})
	c.must(http.StatusBadGateway, "GET", "/api/v1/stats", nil)
	c.must(http.StatusBadGateway, "GET", "/api/v1/stats", nil)
	remove()
	c.must(http.StatusOK, "GET", "/api/v1/stats", nil)
}
