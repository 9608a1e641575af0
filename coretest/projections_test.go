package coretest

import (
	"net/http"
	"reflect"
	"testing"
)

// Reference §5.5: the state store: PUT and POST save, GET always answers
// 200 with found, bulk get keeps request order, bulk save counts.
func TestProjectionStateStore_Ref5_5(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	body := c.must(http.StatusOK, "GET", "/api/v1/projections/orders/o1/state", nil).object(t)
	if body["found"] != false || body["state"] != nil || body["projection"] != "orders" || body["entity_id"] != "o1" {
		t.Errorf("missing state %v", body)
	}
	body = c.must(http.StatusOK, "PUT", "/api/v1/projections/orders/o1/state", map[string]any{"state": map[string]any{"total": 10}}).object(t)
	if body["saved"] != true || body["projection"] != "orders" || body["entity_id"] != "o1" {
		t.Errorf("put %v", body)
	}
	c.must(http.StatusOK, "POST", "/api/v1/projections/orders/o2/state", map[string]any{"state": []any{1, 2}})
	body = c.must(http.StatusOK, "GET", "/api/v1/projections/orders/o1/state", nil).object(t)
	if body["found"] != true || body["state"].(map[string]any)["total"] != float64(10) {
		t.Errorf("get %v", body)
	}
	c.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/projections/orders/o1/state", map[string]any{"value": 1})
	saved := c.must(http.StatusOK, "POST", "/api/v1/projections/orders/bulk/save", map[string]any{"states": []any{
		map[string]any{"entity_id": "o3", "state": "three"},
		map[string]any{"entity_id": "o1", "state": map[string]any{"total": 11}},
	}}).object(t)
	if saved["saved"] != float64(2) || saved["total"] != float64(2) || saved["projection"] != "orders" {
		t.Errorf("bulk save %v", saved)
	}
	var bulk struct {
		Projection string
		States     []struct {
			EntityID string `json:"entity_id"`
			State    any
			Found    bool
		}
		Total int
	}
	c.must(http.StatusOK, "POST", "/api/v1/projections/orders/bulk", map[string]any{"entity_ids": []string{"o3", "zz", "o1"}}).decode(t, &bulk)
	if bulk.Total != 3 || bulk.States[0].EntityID != "o3" || bulk.States[0].State != "three" || bulk.States[1].Found || !bulk.States[2].Found {
		t.Errorf("bulk get %+v", bulk)
	}
	if bulk.States[2].State.(map[string]any)["total"] != float64(11) {
		t.Errorf("bulk save did not overwrite: %+v", bulk.States[2])
	}
}

// Reference §5.5: the summary lists state-store entries of one projection
// ordered by entity id, with entity_id_prefix, limit and offset.
func TestProjectionStateSummary_Ref5_5(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	for _, id := range []string{"b-2", "a-1", "b-1", "c-1"} {
		c.must(http.StatusOK, "PUT", "/api/v1/projections/p/"+id+"/state", map[string]any{"state": id})
	}
	c.must(http.StatusOK, "PUT", "/api/v1/projections/other/b-9/state", map[string]any{"state": 1})
	var sum struct {
		Projection string
		States     []struct {
			EntityID string `json:"entity_id"`
			State    any
		}
		Count, Total int
		HasMore      bool `json:"has_more"`
	}
	ids := func() []string {
		var out []string
		for _, s := range sum.States {
			out = append(out, s.EntityID)
		}
		return out
	}
	c.must(http.StatusOK, "GET", "/api/v1/projections/p/state", nil).decode(t, &sum)
	if !reflect.DeepEqual(ids(), []string{"a-1", "b-1", "b-2", "c-1"}) || sum.Total != 4 || sum.Count != 4 || sum.HasMore {
		t.Errorf("all %+v", sum)
	}
	c.must(http.StatusOK, "GET", "/api/v1/projections/p/state?entity_id_prefix=b-&limit=1&offset=1", nil).decode(t, &sum)
	if !reflect.DeepEqual(ids(), []string{"b-2"}) || sum.Total != 2 || sum.HasMore || sum.States[0].State != "b-2" {
		t.Errorf("prefix page %+v", sum)
	}
	c.must(http.StatusOK, "GET", "/api/v1/projections/unknown/state", nil).decode(t, &sum)
	if sum.Total != 0 || len(sum.States) != 0 {
		t.Errorf("unknown projection %+v", sum)
	}
}

// Reference §5.5: the built-in registered projections, their lifecycle
// (get, pause, start, reset, delete with 404 afterwards), and that a
// registered projection wins over the state store.
func TestRegisteredProjections_Ref5_5(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	var list struct {
		Projections []struct{ Name, Type, Status string }
		Total       int
	}
	c.must(http.StatusOK, "GET", "/api/v1/projections", nil).decode(t, &list)
	if list.Total != 2 || list.Projections[0].Name != "entity_snapshots" || list.Projections[1].Name != "event_counters" ||
		list.Projections[0].Status != "running" || list.Projections[0].Type != `"entity_snapshots"` {
		t.Fatalf("list %+v", list)
	}
	c.ingest("user.created", "u1", map[string]any{"name": "Ada"})
	c.must(http.StatusOK, "PUT", "/api/v1/projections/entity_snapshots/u1/state", map[string]any{"state": "shadowed"})
	body := c.must(http.StatusOK, "GET", "/api/v1/projections/entity_snapshots/u1/state", nil).object(t)
	if body["found"] != true || body["state"].(map[string]any)["name"] != "Ada" {
		t.Errorf("registered state should win: %v", body)
	}
	if b := c.must(http.StatusOK, "GET", "/api/v1/projections/event_counters", nil).object(t); b["name"] != "event_counters" || b["found"] != true {
		t.Errorf("get %v", b)
	}
	if b := c.must(http.StatusOK, "POST", "/api/v1/projections/entity_snapshots/pause", nil).object(t); b["status"] != "paused" {
		t.Errorf("pause %v", b)
	}
	c.ingest("user.renamed", "u1", map[string]any{"name": "Grace"})
	body = c.must(http.StatusOK, "GET", "/api/v1/projections/entity_snapshots/u1/state", nil).object(t)
	if body["state"].(map[string]any)["name"] != "Ada" {
		t.Errorf("paused projection applied a new event: %v", body)
	}
	if b := c.must(http.StatusOK, "POST", "/api/v1/projections/entity_snapshots/start", nil).object(t); b["status"] != "running" {
		t.Errorf("start %v", b)
	}
	body = c.must(http.StatusOK, "GET", "/api/v1/projections/entity_snapshots/u1/state", nil).object(t)
	if body["state"].(map[string]any)["name"] != "Grace" {
		t.Errorf("running projection: %v", body)
	}
	if b := c.must(http.StatusOK, "POST", "/api/v1/projections/event_counters/reset", nil).object(t); b["reset"] != true || b["events_reprocessed"] != float64(2) {
		t.Errorf("reset %v", b)
	}
	if b := c.must(http.StatusOK, "DELETE", "/api/v1/projections/entity_snapshots", nil).object(t); b["deleted"] != true || b["projection"] != "entity_snapshots" {
		t.Errorf("delete %v", b)
	}
	for _, req := range [][2]string{{"GET", ""}, {"DELETE", ""}, {"POST", "/pause"}, {"POST", "/start"}, {"POST", "/reset"}} {
		c.must(http.StatusNotFound, req[0], "/api/v1/projections/entity_snapshots"+req[1], nil)
	}
	body = c.must(http.StatusOK, "GET", "/api/v1/projections/entity_snapshots/u1/state", nil).object(t)
	if body["found"] != false {
		t.Errorf("delete should clear the state store entries too: %v", body)
	}
	c.must(http.StatusNotFound, "GET", "/api/v1/entities/u1/snapshot", nil)
}
