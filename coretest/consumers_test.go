package coretest

import (
	"net/http"
	"testing"
)

type consumerResp struct {
	ConsumerID       string   `json:"consumer_id"`
	EventTypeFilters []string `json:"event_type_filters"`
	CursorPosition   *int     `json:"cursor_position"`
}

type pollResp struct {
	Events []map[string]any
	Count  int
}

// Reference §5.6: register is get-or-create, re-registering replaces the
// filters and keeps the cursor; GET never answers 404.
func TestConsumer_GetOrCreate_Ref5_6(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("a.b", "e", 1)
	var cr consumerResp
	c.must(http.StatusOK, "POST", "/api/v1/consumers", map[string]any{"consumer_id": "c1", "event_type_filters": []string{"a.*"}}).decode(t, &cr)
	if cr.ConsumerID != "c1" || len(cr.EventTypeFilters) != 1 || cr.CursorPosition != nil {
		t.Fatalf("register %+v", cr)
	}
	c.must(http.StatusOK, "POST", "/api/v1/consumers/c1/ack", map[string]any{"position": 1})
	c.must(http.StatusOK, "POST", "/api/v1/consumers", map[string]any{"consumer_id": "c1"}).decode(t, &cr)
	if len(cr.EventTypeFilters) != 0 || cr.CursorPosition == nil || *cr.CursorPosition != 1 {
		t.Errorf("re-register %+v", cr)
	}
	c.must(http.StatusOK, "GET", "/api/v1/consumers/fresh", nil).decode(t, &cr)
	if cr.ConsumerID != "fresh" || len(cr.EventTypeFilters) != 0 || cr.CursorPosition != nil {
		t.Errorf("get-or-create %+v", cr)
	}
	c.must(http.StatusUnprocessableEntity, "POST", "/api/v1/consumers", map[string]any{"event_type_filters": []string{}})
}

// Reference §5.6: poll returns events after the cursor with 1-based global
// positions, filtered with the registry grammar ("x.*" matches x and x.…,
// other entries exact), limit 100 by default, without moving the cursor.
func TestConsumer_PollPositionsAndFilters_Ref5_6(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	types := []string{"asset", "asset.created", "assets.x", "trade.created", "asset.moved", "trade.created.v2"}
	for i, ty := range types {
		tenant := "default"
		if i == 3 {
			tenant = "acme" // positions are global, not per tenant
		}
		c.ingest(ty, "e", i, "tenant_id", tenant)
	}
	c.must(http.StatusOK, "POST", "/api/v1/consumers", map[string]any{"consumer_id": "w", "event_type_filters": []string{"asset.*", "trade.created"}})
	var p pollResp
	c.must(http.StatusOK, "GET", "/api/v1/consumers/w/events", nil).decode(t, &p)
	var got []any
	for _, e := range p.Events {
		got = append(got, e["position"], e["event_type"])
	}
	want := []any{float64(1), "asset", float64(2), "asset.created", float64(4), "trade.created", float64(5), "asset.moved"}
	if p.Count != 4 || len(got) != len(want) {
		t.Fatalf("poll %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("poll %v, want %v", got, want)
		}
	}
	if e := p.Events[0]; e["id"] == nil || e["entity_id"] != "e" || e["tenant_id"] != "default" || e["version"] != float64(1) {
		t.Errorf("flattened event %v", e)
	}
	c.must(http.StatusOK, "GET", "/api/v1/consumers/w/events?limit=2", nil).decode(t, &p)
	if p.Count != 2 || p.Events[0]["position"] != float64(1) {
		t.Errorf("re-poll with limit: %v", p.Events)
	}
	c.must(http.StatusOK, "POST", "/api/v1/consumers/w/ack", map[string]any{"position": 4})
	c.must(http.StatusOK, "GET", "/api/v1/consumers/w/events", nil).decode(t, &p)
	if p.Count != 1 || p.Events[0]["position"] != float64(5) {
		t.Errorf("after ack 4: %v", p.Events)
	}
	for i := 0; i < 120; i++ {
		c.ingest("asset.tick", "e", i)
	}
	c.must(http.StatusOK, "GET", "/api/v1/consumers/w/events", nil).decode(t, &p)
	if p.Count != 100 {
		t.Errorf("default limit: %d events, want 100", p.Count)
	}
}

// Reference §5.6: ack is monotonic (lower or equal is a silent no-op),
// auto-creates the consumer, and a position past the last event is 400
// with Core's exact message.
func TestConsumer_AckMonotonicAndBounded_Ref5_6(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	for i := 0; i < 5; i++ {
		c.ingest("a.b", "e", i)
	}
	ack := c.must(http.StatusOK, "POST", "/api/v1/consumers/new/ack", map[string]any{"position": 3}).object(t)
	if ack["status"] != "ok" || ack["consumer_id"] != "new" || ack["position"] != float64(3) {
		t.Errorf("ack %v", ack)
	}
	var cr consumerResp
	c.must(http.StatusOK, "POST", "/api/v1/consumers/new/ack", map[string]any{"position": 1})
	c.must(http.StatusOK, "GET", "/api/v1/consumers/new", nil).decode(t, &cr)
	if cr.CursorPosition == nil || *cr.CursorPosition != 3 {
		t.Errorf("cursor moved back: %+v", cr)
	}
	r := c.must(http.StatusBadRequest, "POST", "/api/v1/consumers/new/ack", map[string]any{"position": 6})
	if got := r.object(t)["error"]; got != "Invalid input: Position 6 is beyond the latest event offset 5" {
		t.Errorf("error %q", got)
	}
	c.must(http.StatusOK, "POST", "/api/v1/consumers/new/ack", map[string]any{"position": 5})
	c.must(http.StatusOK, "GET", "/api/v1/consumers/new", nil).decode(t, &cr)
	if *cr.CursorPosition != 5 {
		t.Errorf("cursor %d, want 5", *cr.CursorPosition)
	}
}
