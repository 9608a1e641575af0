package coretest

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// Reference §5.4: GET /events/{id} finds an event of any tenant; an unknown
// id is 404 with Core's body.
func TestGetEvent_FoundAndNotFound_Ref5_4(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	id := c.ingest("a.b", "e", map[string]any{"k": "v"}, "tenant_id", "acme")["event_id"].(string)
	c.ingest("a.c", "e", 2)
	body := c.must(http.StatusOK, "GET", "/api/v1/events/"+id, nil).object(t)
	ev := body["event"].(map[string]any)
	if body["found"] != true || ev["id"] != id || ev["tenant_id"] != "acme" || ev["metadata"] != nil {
		t.Errorf("body %v", body)
	}
	missing := "11111111-1111-4111-8111-111111111111"
	r := c.must(http.StatusNotFound, "GET", "/api/v1/events/"+missing, nil)
	if got := r.object(t)["error"]; got != "Entity not found: Event '"+missing+"' not found" {
		t.Errorf("404 error %q", got)
	}
}

// Reference §5.4: GET /entities lists every tenant's entities by most
// recent activity (desc default) or least recent (asc), ties by entity_id;
// has_more is false without a limit; bad order is 400.
func TestListEntities_OrderAndPaging_Ref5_4(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("order.placed", "o1", map[string]any{"s": "a"})
	c.ingest("user.created", "u1", map[string]any{"s": "b"})
	c.ingest("order.paid", "o2", map[string]any{"s": "a"}, "tenant_id", "acme")
	c.ingest("order.shipped", "o1", map[string]any{"s": "c"})
	var res struct {
		Entities []struct {
			EntityID      string `json:"entity_id"`
			EventCount    int    `json:"event_count"`
			LastEventType string `json:"last_event_type"`
			LastEventAt   string `json:"last_event_at"`
		}
		Total   int
		HasMore bool `json:"has_more"`
	}
	ids := func() []string {
		var out []string
		for _, e := range res.Entities {
			out = append(out, e.EntityID)
		}
		return out
	}
	c.must(http.StatusOK, "GET", "/api/v1/entities", nil).decode(t, &res)
	if !reflect.DeepEqual(ids(), []string{"o1", "o2", "u1"}) || res.Total != 3 || res.HasMore {
		t.Fatalf("desc: %+v", res)
	}
	if e := res.Entities[0]; e.EventCount != 2 || e.LastEventType != "order.shipped" || e.LastEventAt == "" {
		t.Errorf("o1 row %+v", e)
	}
	c.must(http.StatusOK, "GET", "/api/v1/entities?order=asc&limit=2", nil).decode(t, &res)
	if !reflect.DeepEqual(ids(), []string{"u1", "o2"}) || res.Total != 3 || !res.HasMore {
		t.Errorf("asc limit 2: %+v", res)
	}
	c.must(http.StatusOK, "GET", "/api/v1/entities?event_type_prefix=order.&offset=1&limit=5", nil).decode(t, &res)
	if !reflect.DeepEqual(ids(), []string{"o2"}) || res.Total != 2 || res.HasMore {
		t.Errorf("prefix offset 1: %+v", res)
	}
	c.must(http.StatusOK, "GET", "/api/v1/entities?payload_filter="+url.QueryEscape(`{"s":"a"}`), nil).decode(t, &res)
	if !reflect.DeepEqual(ids(), []string{"o2", "o1"}) {
		t.Errorf("payload filter: %+v", res)
	}
	c.must(http.StatusBadRequest, "GET", "/api/v1/entities?order=sideways", nil)
}

// Reference §5.4: duplicates group entities by the group_by fields of
// their latest event of the prefix; only groups of two or more, largest
// first, entity ids sorted; both parameters are required.
func TestDetectDuplicates_Ref5_4(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("user.created", "u3", map[string]any{"email": "a@x", "name": "A"})
	c.ingest("user.created", "u1", map[string]any{"email": "a@x", "name": "A"})
	c.ingest("user.created", "u2", map[string]any{"email": "b@x"})
	c.ingest("user.updated", "u2", map[string]any{"email": "a@x", "name": "A"})
	c.ingest("user.created", "u4", map[string]any{"email": "c@x"})
	c.ingest("user.created", "u5", map[string]any{"email": "c@x"})
	c.ingest("user.created", "u6", map[string]any{"name": "A"})
	c.ingest("user.created", "u7", map[string]any{"name": "B"})
	var res struct {
		Duplicates []struct {
			Key       map[string]any `json:"key"`
			EntityIDs []string       `json:"entity_ids"`
			Count     int
		}
		Total   int
		HasMore bool `json:"has_more"`
	}
	c.must(http.StatusOK, "GET", "/api/v1/entities/duplicates?event_type_prefix=user.&group_by=email", nil).decode(t, &res)
	if res.Total != 3 || len(res.Duplicates) != 3 {
		t.Fatalf("groups %+v", res)
	}
	first := res.Duplicates[0]
	if first.Count != 3 || first.Key["email"] != "a@x" || !reflect.DeepEqual(first.EntityIDs, []string{"u1", "u2", "u3"}) {
		t.Errorf("largest group %+v", first)
	}
	var nullGroup bool
	for _, d := range res.Duplicates {
		if v, ok := d.Key["email"]; ok && v == nil {
			nullGroup = reflect.DeepEqual(d.EntityIDs, []string{"u6", "u7"})
		}
	}
	if !nullGroup {
		t.Errorf("entities without the field should group under null: %+v", res.Duplicates)
	}
	c.must(http.StatusOK, "GET", "/api/v1/entities/duplicates?event_type_prefix=user.&group_by=email,name&limit=1", nil).decode(t, &res)
	if res.Total != 2 || len(res.Duplicates) != 1 || !res.HasMore || res.Duplicates[0].Count != 3 {
		t.Errorf("two fields, limit 1: %+v", res)
	}
	for _, q := range []string{"group_by=email", "event_type_prefix=user."} {
		r := c.send("GET", "/api/v1/entities/duplicates?"+q, nil)
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "missing field") {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}

// Reference §5.4: entity state is the shallow merge of the payloads with
// the history, as_of time travel, tenant scoping, and 404 without events.
func TestEntityState_MergeHistoryAsOf_Ref5_4(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	first := c.ingest("user.created", "u1", map[string]any{"name": "Ada", "tier": "free"})
	c.ingest("user.upgraded", "u1", map[string]any{"tier": "pro"})
	c.ingest("user.noted", "u1", "a string payload")
	c.ingest("user.created", "u1", map[string]any{"name": "Other"}, "tenant_id", "acme")
	var st struct {
		EntityID     string         `json:"entity_id"`
		LastUpdated  string         `json:"last_updated"`
		EventCount   int            `json:"event_count"`
		AsOf         *string        `json:"as_of"`
		CurrentState map[string]any `json:"current_state"`
		History      []struct {
			EventID   string `json:"event_id"`
			Type      string
			Timestamp string
			Payload   any
		}
	}
	c.must(http.StatusOK, "GET", "/api/v1/entities/u1/state?tenant_id=default", nil).decode(t, &st)
	if st.EventCount != 3 || st.CurrentState["name"] != "Ada" || st.CurrentState["tier"] != "pro" || st.AsOf != nil {
		t.Errorf("state %+v", st)
	}
	if len(st.History) != 3 || st.History[0].EventID != first["event_id"] || st.History[1].Type != "user.upgraded" {
		t.Errorf("history %+v", st.History)
	}
	asOf := first["timestamp"].(string)
	c.must(http.StatusOK, "GET", "/api/v1/entities/u1/state?tenant_id=default&as_of="+url.QueryEscape(asOf), nil).decode(t, &st)
	if st.EventCount != 1 || st.CurrentState["tier"] != "free" || st.AsOf == nil || *st.AsOf != asOf {
		t.Errorf("as_of state %+v", st)
	}
	c.must(http.StatusOK, "GET", "/api/v1/entities/u1/state", nil).decode(t, &st)
	if st.EventCount != 4 || st.CurrentState["name"] != "Other" {
		t.Errorf("all tenants %+v", st)
	}
	r := c.must(http.StatusNotFound, "GET", "/api/v1/entities/nobody/state", nil)
	if !strings.HasPrefix(r.object(t)["error"].(string), "Entity not found") {
		t.Errorf("404 body %s", r.body)
	}
}

// Reference §5.4: the snapshot with tenant_id has the state shape; without
// it comes from the entity_snapshots projection.
func TestEntitySnapshot_Ref5_4(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("user.created", "u1", map[string]any{"name": "Ada", "tier": "free"})
	c.ingest("user.upgraded", "u1", map[string]any{"tier": "pro"})
	body := c.must(http.StatusOK, "GET", "/api/v1/entities/u1/snapshot", nil).object(t)
	snap, _ := body["snapshot"].(map[string]any)
	if body["from_projection"] != "entity_snapshots" || snap["tier"] != "pro" || snap["name"] != "Ada" {
		t.Errorf("snapshot %v", body)
	}
	body = c.must(http.StatusOK, "GET", "/api/v1/entities/u1/snapshot?tenant_id=default", nil).object(t)
	if body["event_count"] != float64(2) || body["current_state"].(map[string]any)["tier"] != "pro" {
		t.Errorf("tenant snapshot %v", body)
	}
	c.must(http.StatusNotFound, "GET", "/api/v1/entities/nobody/snapshot", nil)
	c.must(http.StatusNotFound, "GET", "/api/v1/entities/u1/snapshot?tenant_id=acme", nil)
}

// Reference §5.4: stats are global without tenant_id, per tenant with it.
func TestStats_GlobalAndTenant_Ref5_4(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("a.x", "e1", 1)
	c.ingest("a.y", "e1", 2)
	c.ingest("a.x", "e2", 3)
	c.ingest("b.z", "e9", 4, "tenant_id", "acme")
	g := c.must(http.StatusOK, "GET", "/api/v1/stats", nil).object(t)
	if g["total_events"] != float64(4) || g["total_entities"] != float64(3) || g["total_event_types"] != float64(3) || g["total_ingested"] != float64(4) {
		t.Errorf("global %v", g)
	}
	if _, ok := g["event_types"]; ok {
		t.Errorf("global stats carry event_types")
	}
	d := c.must(http.StatusOK, "GET", "/api/v1/stats?tenant_id=default", nil).object(t)
	types := d["event_types"].(map[string]any)
	if d["total_events"] != float64(3) || d["total_entities"] != float64(2) || types["a.x"] != float64(2) || d["oldest_event"] == nil || d["newest_event"] == nil {
		t.Errorf("tenant %v", d)
	}
}

// Reference §5.4: streams by recency and event types by count, for the
// tenant of the parameter or of the caller, paged.
func TestStreamsAndEventTypes_Ref5_4(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("a.x", "e1", 1)
	c.ingest("a.y", "e2", 2)
	c.ingest("a.y", "e2", 3)
	c.ingest("a.y", "e3", 3)
	c.ingest("a.x", "e1", 4)
	c.ingest("b.z", "e9", 4, "tenant_id", "acme")
	var streams struct {
		Streams []struct {
			StreamID   string `json:"stream_id"`
			EventCount int    `json:"event_count"`
		}
		Total int
	}
	c.must(http.StatusOK, "GET", "/api/v1/streams", nil).decode(t, &streams)
	if streams.Total != 3 || streams.Streams[0].StreamID != "e1" || streams.Streams[0].EventCount != 2 || streams.Streams[1].StreamID != "e3" {
		t.Errorf("streams %+v", streams)
	}
	c.must(http.StatusOK, "GET", "/api/v1/streams?tenant_id=acme&limit=1", nil).decode(t, &streams)
	if streams.Total != 1 || streams.Streams[0].StreamID != "e9" {
		t.Errorf("acme streams %+v", streams)
	}
	var types struct {
		EventTypes []struct {
			EventType  string `json:"event_type"`
			EventCount int    `json:"event_count"`
		} `json:"event_types"`
		Total int
	}
	c.must(http.StatusOK, "GET", "/api/v1/event-types?offset=1", nil).decode(t, &types)
	if types.Total != 2 || len(types.EventTypes) != 1 || types.EventTypes[0].EventType != "a.x" || types.EventTypes[0].EventCount != 2 {
		t.Errorf("event types %+v", types)
	}
	dev := NewTestServer(t, WithDevMode())
	dc := &apiClient{t: t, base: dev.URL}
	dc.ingest("a.x", "e1", 1)
	dc.must(http.StatusOK, "GET", "/api/v1/event-types", nil).decode(t, &types)
	if types.Total != 0 {
		t.Errorf("dev-tenant sees tenant default: %+v", types)
	}
}
