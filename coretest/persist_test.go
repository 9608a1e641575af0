package coretest

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// WithDataDir keeps events (ids, timestamps, versions, positions),
// consumer cursors and the projection state store across a restart.
func TestDataDir_SurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, WithDataDir(dir))
	c := coreClient(t, s)
	first := c.ingest("order.placed", "o1", map[string]any{"total": 10}, "metadata", map[string]any{"m": 1})
	c.ingest("order.paid", "o1", map[string]any{"paid": true}, "tenant_id", "acme")
	c.ingest("order.paid", "o1", "x")
	c.must(http.StatusOK, "POST", "/api/v1/consumers", map[string]any{"consumer_id": "w", "event_type_filters": []string{"order.*"}})
	c.must(http.StatusOK, "POST", "/api/v1/consumers/w/ack", map[string]any{"position": 2})
	c.must(http.StatusOK, "PUT", "/api/v1/projections/p/o1/state", map[string]any{"state": map[string]any{"n": 1}})
	c.must(http.StatusOK, "PUT", "/api/v1/projections/gone/o1/state", map[string]any{"state": 1})
	c.must(http.StatusOK, "DELETE", "/api/v1/projections/event_counters", nil)
	before := c.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default", nil).body
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := newTestServer(t, WithDataDir(dir))
	c2 := coreClient(t, s2)
	after := c2.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default", nil).body
	if string(before) != string(after) {
		t.Fatalf("events changed across restart:\n%s\n%s", before, after)
	}
	// The counter is kept per entity id across tenants (reference §14 #2).
	if v := c2.ingest("order.shipped", "o1", 1)["version"]; v != float64(4) {
		t.Errorf("version after restart %v, want 4", v)
	}
	var p pollResp
	c2.must(http.StatusOK, "GET", "/api/v1/consumers/w/events", nil).decode(t, &p)
	if p.Count != 2 || p.Events[0]["position"] != float64(3) || p.Events[1]["position"] != float64(4) {
		t.Errorf("poll after restart %v", p.Events)
	}
	body := c2.must(http.StatusOK, "GET", "/api/v1/projections/p/o1/state", nil).object(t)
	if body["found"] != true || body["state"].(map[string]any)["n"] != float64(1) {
		t.Errorf("projection state after restart %v", body)
	}
	c2.must(http.StatusNotFound, "GET", "/api/v1/projections/event_counters", nil)
	ev := c2.must(http.StatusOK, "GET", "/api/v1/events/"+first["event_id"].(string), nil).object(t)["event"].(map[string]any)
	if ev["timestamp"] != first["timestamp"] || ev["metadata"].(map[string]any)["m"] != float64(1) {
		t.Errorf("event after restart %v", ev)
	}
}

// A log line cut short by a crash is dropped and the log stays usable.
func TestDataDir_TornLastLine(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, WithDataDir(dir))
	c := coreClient(t, s)
	c.ingest("a.b", "e", 1)
	c.ingest("a.b", "e", 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, eventsFile)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"id":"6c3f8a52-0c7e-4b4e`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s2 := newTestServer(t, WithDataDir(dir))
	c2 := coreClient(t, s2)
	if v := c2.ingest("a.b", "e", 3)["version"]; v != float64(3) {
		t.Errorf("version %v, want 3", v)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := newTestServer(t, WithDataDir(dir))
	if q := coreClient(t, s3).query("tenant_id=default"); q.Count != 3 {
		t.Errorf("%d events after torn line and restart, want 3", q.Count)
	}
	// A corrupt line in the middle is an error, not silent data loss.
	if err := s3.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append([]byte("not json\n"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("127.0.0.1:0", "", WithDataDir(dir)); err == nil {
		t.Fatal("corrupt log accepted")
	}
}

// The consumer and projection logs are compacted at start: one line per
// consumer and per stored state, whatever happened before.
func TestDataDir_CompactsAtStart(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, WithDataDir(dir))
	c := coreClient(t, s)
	for i := 0; i < 20; i++ {
		c.ingest("a.b", "e", i)
		c.must(http.StatusOK, "POST", "/api/v1/consumers/w/ack", map[string]any{"position": i + 1})
		c.must(http.StatusOK, "PUT", "/api/v1/projections/p/e/state", map[string]any{"state": i})
	}
	c.must(http.StatusOK, "DELETE", "/api/v1/projections/event_counters", nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines := func(name string) int {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Count(b, []byte("\n"))
	}
	if n := lines(consumersFile); n != 20 {
		t.Fatalf("consumer log has %d lines before restart, want 20", n)
	}
	s2 := newTestServer(t, WithDataDir(dir))
	if n := lines(consumersFile); n != 1 {
		t.Errorf("consumer log has %d lines after compaction, want 1", n)
	}
	if n := lines(projectionsFile); n != 2 {
		t.Errorf("projection log has %d lines after compaction, want 2", n)
	}
	c2 := coreClient(t, s2)
	var cr consumerResp
	c2.must(http.StatusOK, "GET", "/api/v1/consumers/w", nil).decode(t, &cr)
	if cr.CursorPosition == nil || *cr.CursorPosition != 20 {
		t.Errorf("cursor after compaction %+v", cr)
	}
	if b := c2.must(http.StatusOK, "GET", "/api/v1/projections/p/e/state", nil).object(t); b["state"] != float64(19) {
		t.Errorf("state after compaction %v", b)
	}
	c2.must(http.StatusNotFound, "GET", "/api/v1/projections/event_counters", nil)
	c2.must(http.StatusOK, "POST", "/api/v1/consumers/w/ack", map[string]any{"position": 20})
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := newTestServer(t, WithDataDir(dir))
	coreClient(t, s3).must(http.StatusOK, "GET", "/api/v1/consumers/w", nil).decode(t, &cr)
	if *cr.CursorPosition != 20 {
		t.Errorf("cursor after second restart %+v", cr)
	}
}

// Two servers cannot share a data directory; the second may start once the
// first has closed.
func TestDataDir_Exclusive(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no directory lock on windows")
	}
	dir := t.TempDir()
	s := newTestServer(t, WithDataDir(dir))
	if _, err := Listen("127.0.0.1:0", "", WithDataDir(dir)); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server on the same directory: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Listen("127.0.0.1:0", "", WithDataDir(dir))
	if err != nil {
		t.Fatalf("after close: %v", err)
	}
	s2.Close()
}

// Serve runs on listeners the caller made, and closes them when it cannot
// start.
func TestServe_OnListeners(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Serve(ln, nil, WithDevMode())
	if err != nil {
		t.Fatal(err)
	}
	(&apiClient{t: t, base: s.URL}).must(http.StatusOK, "GET", "/health", nil)
	if s.QueryURL() != "" {
		t.Errorf("QueryURL %q without a Query Service listener", s.QueryURL())
	}
	s.Close()

	if runtime.GOOS == "windows" {
		return // no directory lock to fail on
	}
	dir := t.TempDir()
	newTestServer(t, WithDataDir(dir)) // holds the directory
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Serve(ln2, nil, WithDataDir(dir)); err == nil {
		t.Fatal("second server on a locked data directory started")
	}
	if _, err := ln2.Accept(); err == nil {
		t.Error("listener left open after a failed start")
	}
}
