package coretest

import "testing"

func TestSmoke(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("user.created", "user-1", map[string]any{"name": "Ada"})
	c.must(200, "POST", "/api/v1/events/batch", map[string]any{"events": []ev{{"event_type": "user.updated", "entity_id": "user-1", "payload": map[string]any{"x": 1}}}})
	q := c.query("tenant_id=default&entity_id=user-1")
	if q.Count != 2 {
		t.Fatalf("count %d", q.Count)
	}
	for _, p := range []string{"/health", "/api/v1/stats", "/api/v1/stats?tenant_id=default", "/api/v1/streams", "/api/v1/event-types", "/api/v1/entities", "/api/v1/entities/duplicates?event_type_prefix=user.&group_by=name", "/api/v1/entities/user-1/state", "/api/v1/entities/user-1/snapshot", "/api/v1/entities/user-1/snapshot?tenant_id=default", "/api/v1/projections", "/api/v1/projections/entity_snapshots", "/api/v1/projections/x/state", "/api/v1/projections/entity_snapshots/user-1/state", "/api/v1/consumers/c1", "/api/v1/consumers/c1/events"} {
		c.send("GET", p, nil)
	}
	c.send("GET", "/api/v1/events/"+q.Events[0]["id"].(string), nil)
	c.send("PUT", "/api/v1/projections/p/e1/state", map[string]any{"state": map[string]any{"a": 1}})
	c.send("POST", "/api/v1/projections/p/e1/state", map[string]any{"state": 1})
	c.send("POST", "/api/v1/projections/p/bulk", map[string]any{"entity_ids": []string{"e1", "e2"}})
	c.send("POST", "/api/v1/projections/p/bulk/save", map[string]any{"states": []any{map[string]any{"entity_id": "e3", "state": "s"}}})
	c.send("POST", "/api/v1/consumers", map[string]any{"consumer_id": "c2", "event_type_filters": []string{"user.*"}})
	c.send("POST", "/api/v1/consumers/c2/ack", map[string]any{"position": 1})
	c.send("POST", "/api/v1/projections/event_counters/pause", nil)
	c.send("POST", "/api/v1/projections/event_counters/start", nil)
	c.send("POST", "/api/v1/projections/event_counters/reset", nil)
	c.send("DELETE", "/api/v1/projections/event_counters", nil)
	qc := queryClient(t, s)
	qc.send("GET", "/health", nil)
	qc.send("GET", "/api/v1/events/query?entity_id=user-1", nil)
}
