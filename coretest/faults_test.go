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

// FailNext fails the next n requests of one operation with Core's body for
// the status, without processing them, then lets requests through.
func TestFaults_FailNext(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	s.FailNext("ingestEvent", 2, http.StatusServiceUnavailable)
	s.FailNext("queryEvents", 1, http.StatusTooManyRequests)
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
	s.FailNext("health", 1, http.StatusInternalServerError)
	c.must(http.StatusInternalServerError, "GET", "/health", nil)
	c.must(http.StatusOK, "GET", "/health", nil)
	s.FailNextQuery("queryEvents", 1, http.StatusUnauthorized)
	qc := queryClient(t, s)
	r = qc.must(http.StatusUnauthorized, "GET", "/api/v1/events/query", nil)
	if e, _ := r.object(t)["error"].(map[string]any); e["code"] != "unauthorized" {
		t.Errorf("QS injected 401 %s", r.body)
	}
}

// Delay slows every response of an operation until cleared.
func TestFaults_Delay(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	s.Delay("getStats", 150*time.Millisecond)
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
	s.Delay("getStats", 0)
	start = time.Now()
	c.must(http.StatusOK, "GET", "/api/v1/stats", nil)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("cleared delay still applied: %v", d)
	}
}

// CutBodyNext processes the request, then sends half the response and
// closes the connection: the write happened, the client cannot know.
func TestFaults_CutBodyNext(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	s.CutBodyNext("ingestEvents", 1)
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

	s.CutBodyNextQuery("queryEvents", 1)
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

// Reset clears every injected fault.
func TestFaults_Reset(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	s.FailNext("getStats", 5, http.StatusBadGateway)
	s.Delay("getStats", time.Hour)
	s.CutBodyNext("getStats", 5)
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
				s.FailNextQuery(op.id, 1, status)
				qc.must(status, op.method, path, body)
			} else {
				s.FailNext(op.id, 1, status)
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
	s.Delay("getStats", time.Hour)
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

// FailNext applies to the WebSocket handshake too.
func TestFaults_FailStreamHandshake(t *testing.T) {
	s := newTestServer(t)
	s.FailNext("streamEvents", 1, http.StatusServiceUnavailable)
	_, resp, err := dialRaw(s, "w")
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial: %v, %v; want a 503 handshake", err, resp)
	}
	ws := dial(t, s, "w")
	if f := ws.nextObject(); f["type"] != "replay_complete" {
		t.Fatalf("after the failed handshake: %v", f)
	}
}
