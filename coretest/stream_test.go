package coretest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient is a test WebSocket client.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

// dial opens the stream (with consumer_id when consumer is not "").
func dial(t *testing.T, s *Server, consumer string, headers ...string) *wsClient {
	t.Helper()
	c, resp, err := dialRaw(s, consumer, headers...)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	c.SetReadLimit(1 << 24)
	t.Cleanup(func() { c.CloseNow() })
	return &wsClient{t: t, c: c}
}

func dialRaw(s *Server, consumer string, headers ...string) (*websocket.Conn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v1/events/stream"
	if consumer != "" {
		u += "?consumer_id=" + consumer
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+testKey)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			h.Del(headers[i])
		} else {
			h.Set(headers[i], headers[i+1])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
}

// next reads one frame.
func (w *wsClient) next() []byte {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, data, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatalf("read frame: %v", err)
	}
	if typ != websocket.MessageText {
		w.t.Fatalf("frame type %v, want text", typ)
	}
	return data
}

// nextObject reads one frame that must be a JSON object.
func (w *wsClient) nextObject() map[string]any {
	w.t.Helper()
	data := w.next()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		w.t.Fatalf("frame %s: %v", data, err)
	}
	return m
}

// none asserts that no frame arrives within d.
func (w *wsClient) none(d time.Duration) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if _, data, err := w.c.Read(ctx); err == nil {
		w.t.Fatalf("unexpected frame %s", data)
	}
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	if err := w.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// Reference §5.7: with consumer_id, every event after the cursor that
// matches the consumer's filters comes as a replay frame with its global
// position, then replay_complete with the count, then live bare events
// filtered by the consumer's filters as prefix filters.
func TestStream_ConsumerReplayThenLive_Ref5_7(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	for _, ty := range []string{"order.placed", "user.created", "order.paid", "order.shipped"} {
		c.ingest(ty, "e", map[string]any{"t": ty})
	}
	c.must(http.StatusOK, "POST", "/api/v1/consumers", map[string]any{"consumer_id": "w", "event_type_filters": []string{"order.*"}})
	c.must(http.StatusOK, "POST", "/api/v1/consumers/w/ack", map[string]any{"position": 1})
	ws := dial(t, s, "w")
	for _, want := range []struct {
		pos float64
		ty  string
	}{{3, "order.paid"}, {4, "order.shipped"}} {
		f := ws.nextObject()
		ev, _ := f["event"].(map[string]any)
		if f["type"] != "replay" || f["position"] != want.pos || ev["event_type"] != want.ty || ev["metadata"] != nil || ev["version"] == nil {
			t.Fatalf("replay frame %v, want position %v %s", f, want.pos, want.ty)
		}
	}
	if f := ws.nextObject(); f["type"] != "replay_complete" || f["replayed"] != float64(2) {
		t.Fatalf("sentinel %v", f)
	}
	c.ingest("user.deleted", "e", 1)
	c.ingest("order.refunded", "e", 2)
	f := ws.nextObject()
	if _, tagged := f["type"]; tagged || f["event_type"] != "order.refunded" || f["id"] == nil {
		t.Fatalf("live frame %v, want bare order.refunded", f)
	}
	// The replay does not move the cursor.
	var cr consumerResp
	c.must(http.StatusOK, "GET", "/api/v1/consumers/w", nil).decode(t, &cr)
	if *cr.CursorPosition != 1 {
		t.Errorf("cursor %d after replay, want 1", *cr.CursorPosition)
	}
}

// Reference §5.7: an unknown consumer is created with no filters and
// replays every type; a consumer with nothing to replay gets replayed 0.
func TestStream_UnknownConsumerReplaysAll_Ref5_7(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("a.b", "e", 1)
	c.ingest("c.d", "e", 2)
	ws := dial(t, s, "brand-new")
	ws.nextObject()
	ws.nextObject()
	if f := ws.nextObject(); f["type"] != "replay_complete" || f["replayed"] != float64(2) {
		t.Fatalf("sentinel %v", f)
	}
	c.must(http.StatusOK, "POST", "/api/v1/consumers/brand-new/ack", map[string]any{"position": 2})
	ws2 := dial(t, s, "brand-new")
	if f := ws2.nextObject(); f["type"] != "replay_complete" || f["replayed"] != float64(0) {
		t.Fatalf("caught-up sentinel %v", f)
	}
}

// Reference §5.7: without consumer_id the socket is live only: no replay,
// no sentinel, every event.
func TestStream_LiveOnlyWithoutConsumer_Ref5_7(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	c.ingest("old.event", "e", 1)
	ws := dial(t, s, "")
	waitSubscribers(t, s, 1)
	c.ingest("a.b", "e", 2)
	c.ingest("c.d", "e2", 3, "tenant_id", "acme")
	if f := ws.nextObject(); f["event_type"] != "a.b" {
		t.Fatalf("first frame %v", f)
	}
	if f := ws.nextObject(); f["event_type"] != "c.d" || f["tenant_id"] != "acme" {
		t.Fatalf("second frame %v", f)
	}
}

// waitSubscribers waits until n stream clients are registered, so that an
// event ingested next is seen live.
func waitSubscribers(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s.StreamClients() >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d stream clients never connected", n)
}

// Reference §5.7: subscribe frames set prefix filters where "x.*" needs
// "x." (bare x does not match, unlike the registry) and other entries are
// exact; the legacy object replaces every filter; unparseable frames are
// ignored.
func TestStream_SubscribeAndLegacyFilters_Ref5_7(t *testing.T) {
	// The two malformed frames below break the spec on purpose: collect
	// the violations and expect exactly those.
	var vs violations
	s := newTestServer(t, WithSpecValidation(vs.report))
	defer func() {
		got := vs.list()
		if len(got) != 2 || !strings.Contains(got[0].Error(), "not an object") || !strings.Contains(got[1].Error(), "{garbage") {
			t.Errorf("violations %v, want the two malformed client frames", got)
		}
	}()
	c := coreClient(t, s)
	ws := dial(t, s, "")
	ws.send(map[string]any{"type": "subscribe", "filters": []string{"asset.*", "trade.created"}})
	ws.send("not an object")
	if err := ws.c.Write(context.Background(), websocket.MessageText, []byte("{garbage")); err != nil {
		t.Fatal(err)
	}
	// A marker proves the frames above were processed before the events.
	waitFilter(t, s, func(f liveFilter) bool { return len(f.prefixes) == 2 })
	for _, ty := range []string{"asset", "asset.created", "assets.x", "trade.created", "trade.created.v2", "asset.moved.far"} {
		c.ingest(ty, "e", 1)
	}
	for _, want := range []string{"asset.created", "trade.created", "asset.moved.far"} {
		if f := ws.nextObject(); f["event_type"] != want {
			t.Fatalf("frame %v, want %s", f["event_type"], want)
		}
	}
	ws.send(map[string]any{"entity_id": "e2", "event_type_prefixes": []string{"x.*"}})
	waitFilter(t, s, func(f liveFilter) bool { return f.entityID != nil })
	c.ingest("x.a", "e", 1)
	c.ingest("asset.created", "e2", 1)
	c.ingest("x.b", "e2", 1)
	if f := ws.nextObject(); f["event_type"] != "x.b" || f["entity_id"] != "e2" {
		t.Fatalf("legacy filter frame %v", f)
	}
	ws.send(map[string]any{"event_type": "y.only"})
	waitFilter(t, s, func(f liveFilter) bool { return f.eventType != nil })
	c.ingest("x.b", "e2", 1)
	c.ingest("y.only", "e9", 1)
	if f := ws.nextObject(); f["event_type"] != "y.only" {
		t.Fatalf("exact type frame %v", f)
	}
}

// waitFilter waits until the single stream client's filter satisfies ok.
func waitFilter(t *testing.T, s *Server, ok func(liveFilter) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.streamsMu.Lock()
		var match bool
		for sc := range s.streams {
			sc.mu.Lock()
			match = ok(sc.filter)
			sc.mu.Unlock()
		}
		s.streamsMu.Unlock()
		if match {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("filter never applied")
}

// Reference §5.7: client frames sent during the replay are applied only
// after it, and events stored during the replay reach the client live
// (the server subscribes before replaying).
func TestStream_FramesAppliedAfterReplay_Ref5_7(t *testing.T) {
	s := newTestServer(t)
	c := coreClient(t, s)
	for i := 0; i < 3; i++ {
		c.ingest("a.x", "e", i)
	}
	ws := dial(t, s, "r")
	ws.send(map[string]any{"type": "subscribe", "filters": []string{"b.*"}})
	for i := 0; i < 3; i++ {
		if f := ws.nextObject(); f["type"] != "replay" {
			t.Fatalf("frame %d: %v", i, f)
		}
	}
	if f := ws.nextObject(); f["type"] != "replay_complete" {
		t.Fatalf("sentinel %v", f)
	}
	waitFilter(t, s, func(f liveFilter) bool { return len(f.prefixes) == 1 && f.prefixes[0] == "b.*" })
	c.ingest("a.x", "e", 9)
	c.ingest("b.y", "e", 9)
	if f := ws.nextObject(); f["event_type"] != "b.y" {
		t.Fatalf("live frame %v", f)
	}
}

// Reference §5.7: with batching on, live events arrive as JSON arrays.
func TestStream_LiveBatchesAsArrays_Ref5_7(t *testing.T) {
	s := newTestServer(t, WithLiveBatching(20*time.Millisecond, 3))
	c := coreClient(t, s)
	ws := dial(t, s, "")
	waitSubscribers(t, s, 1)
	c.must(http.StatusOK, "POST", "/api/v1/events/batch", map[string]any{"events": []ev{
		{"event_type": "a.b", "entity_id": "e", "payload": 1},
		{"event_type": "a.b", "entity_id": "e", "payload": 2},
		{"event_type": "a.b", "entity_id": "e", "payload": 3},
		{"event_type": "a.b", "entity_id": "e", "payload": 4},
	}})
	var total []map[string]any
	for len(total) < 4 {
		data := ws.next()
		var batch []map[string]any
		if err := json.Unmarshal(data, &batch); err != nil {
			t.Fatalf("frame %s is not an array: %v", data, err)
		}
		if len(batch) == 0 || len(batch) > 3 {
			t.Fatalf("batch of %d, want 1..3", len(batch))
		}
		total = append(total, batch...)
	}
	for i, e := range total {
		if e["payload"] != float64(i+1) {
			t.Errorf("event %d payload %v", i, e["payload"])
		}
	}
}

// Reference §5.7: a client that falls behind a bounded buffer gets
// {"type":"lagged","missed":N}, and the connection stays open.
func TestStream_LaggedWhenBufferOverflows_Ref5_7(t *testing.T) {
	s := newTestServer(t, WithStreamBuffer(4))
	c := coreClient(t, s)
	ws := dial(t, s, "")
	waitSubscribers(t, s, 1)
	// One batch publishes ten events at once into a buffer of four.
	events := make([]ev, 10)
	for i := range events {
		events[i] = ev{"event_type": "a.b", "entity_id": "e", "payload": i}
	}
	c.must(http.StatusOK, "POST", "/api/v1/events/batch", map[string]any{"events": events})
	var got, missed int
	for got+missed < 10 {
		f := ws.nextObject()
		if f["type"] == "lagged" {
			missed += int(f["missed"].(float64))
			continue
		}
		got++
	}
	if missed == 0 || got < 4 {
		t.Fatalf("got %d events and %d missed, want a lagged notice", got, missed)
	}
	c.ingest("after.lag", "e", 1)
	if f := ws.nextObject(); f["event_type"] != "after.lag" {
		t.Fatalf("after lag: %v", f)
	}
}

// Reference §2.1 and §5.7: the upgrade is not exempt from auth.
func TestStream_UpgradeNeedsAuth_Ref2_1(t *testing.T) {
	s := newTestServer(t)
	_, resp, err := dialRaw(s, "", "Authorization", "")
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("dial without credentials: err %v, resp %v", err, resp)
	}
	c, _, err := dialRaw(s, "", "Authorization", "", "X-API-Key", testKey)
	if err != nil {
		t.Fatalf("dial with X-API-Key: %v", err)
	}
	c.CloseNow()
}

// Concurrent ingests into one entity get distinct consecutive versions,
// and a live stream sees every event once, in position order.
func TestStream_ConcurrentIngestInOrder_Ref4_1(t *testing.T) {
	s := newTestServer(t)
	ws := dial(t, s, "")
	waitSubscribers(t, s, 1)
	const workers, each = 8, 25
	done := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < each; i++ {
				if _, err := s.Seed(SeedEvent{Type: "a.b", EntityID: "shared", Payload: json.RawMessage(`{}`)}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for want := 1; want <= workers*each; want++ {
		if f := ws.nextObject(); f["version"] != float64(want) {
			t.Fatalf("live event %d has version %v", want, f["version"])
		}
	}
}

// Shutdown ends open streams with a going-away close frame.
func TestStream_ShutdownSendsGoingAway(t *testing.T) {
	s := NewServer(WithAPIKeys(testKey))
	defer s.Close()
	ws := dial(t, s, "")
	waitSubscribers(t, s, 1)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := ws.c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("read: %v, want going away", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get(s.URL + "/health"); err == nil {
		t.Error("server still serving after Shutdown")
	}
}
