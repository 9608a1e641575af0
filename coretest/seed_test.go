package coretest

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

// Seed validates with Core's rules, stores in order, and stops at the
// first invalid event.
func TestSeed(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	n, err := s.Seed(
		SeedEvent{Type: "a.b", EntityID: "e", Payload: json.RawMessage(`{"k": 1}`)},
		SeedEvent{Type: "a.b", EntityID: "e", TenantID: "acme", Metadata: json.RawMessage(`{"m":true}`)},
		SeedEvent{Type: "Bad", EntityID: "e"},
		SeedEvent{Type: "a.b", EntityID: "e"},
	)
	if n != 2 || !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("Seed = %d, %v; want 2 and ErrInvalidEvent", n, err)
	}
	if s.EventCount() != 2 {
		t.Errorf("EventCount %d", s.EventCount())
	}
	q := c.query("tenant_id=default")
	if q.Count != 1 || q.Events[0]["payload"].(map[string]any)["k"] != float64(1) {
		t.Errorf("seeded default events %v", q.Events)
	}
	q = c.query("tenant_id=acme")
	if p, _ := q.Events[0]["payload"].(map[string]any); q.Count != 1 || p == nil || len(p) != 0 || q.Events[0]["version"] != float64(2) {
		t.Errorf("seeded acme events %v", q.Events)
	}
	if _, err := s.Seed(SeedEvent{Type: "a", EntityID: "e", Payload: json.RawMessage(`{`)}); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("bad payload: %v", err)
	}
	c.must(http.StatusOK, "GET", "/api/v1/events/query?tenant_id=default", nil)
}
