package projection

import (
	"errors"
	"fmt"
	"github.com/allsource-go/allsource/allsource"
	"slices"
	"testing"
	"time"
)

// history records, per entity, the versions applied in order, so a test
// sees any event applied twice, skipped or out of order.
type history map[string][]int64

func recordReducer(h history, ev Event) (history, error) {
	if h == nil {
		h = history{}
	}
	h[ev.EntityID] = append(h[ev.EntityID], ev.Version)
	return h, nil
}

func ev(entity string, version int64) Event {
	return Event{Event: allsource.Event{ID: fmt.Sprintf("%s@%d", entity, version), EventType: "asset.updated", EntityID: entity, TenantID: "default", Version: version}}
}

func pend(pos int64, e Event) pendingEvent {
	return pendingEvent{Position: pos, ID: e.ID, Type: e.EventType, TenantID: e.TenantID, EntityID: e.EntityID, Version: e.Version}
}

func newTestEngine() *engine[history] {
	return newEngine[history]("c", recordReducer, nil, nil)
}

func mustReplay(t *testing.T, e *engine[history], pos int64, x Event) {
	t.Helper()
	if err := e.replay(pos, &x); err != nil {
		t.Fatal(err)
	}
}

func mustLive(t *testing.T, e *engine[history], x Event) {
	t.Helper()
	if err := e.live(&x); err != nil {
		t.Fatal(err)
	}
}

func TestEngineReplayThenLiveDedup(t *testing.T) {
	e := newTestEngine()
	mustReplay(t, e, 1, ev("a", 1))
	mustReplay(t, e, 2, ev("b", 1))
	mustReplay(t, e, 3, ev("a", 2))
	if e.confirmed != 3 {
		t.Fatalf("confirmed = %d, want 3", e.confirmed)
	}
	// Core subscribes before replaying, so live frames repeat the tail of
	// the replay.
	mustLive(t, e, ev("a", 2))
	mustLive(t, e, ev("a", 3))
	mustLive(t, e, ev("b", 2))
	want := history{"a": {1, 2, 3}, "b": {1, 2}}
	if !equalHistory(e.state, want) {
		t.Fatalf("state %v, want %v", e.state, want)
	}
	if e.stats.duplicates.Load() != 1 || e.stats.applied.Load() != 5 {
		t.Fatalf("stats %+v", e.stats.load())
	}
	// A reconnect replays from the cursor (1 here): position and version
	// dedup together skip what is already applied.
	mustReplay(t, e, 2, ev("b", 1))
	mustReplay(t, e, 3, ev("a", 2))
	mustReplay(t, e, 4, ev("a", 3))
	mustReplay(t, e, 5, ev("b", 2))
	mustReplay(t, e, 6, ev("c", 1))
	want["c"] = []int64{1}
	if !equalHistory(e.state, want) || e.confirmed != 6 {
		t.Fatalf("state %v confirmed %d, want %v and 6", e.state, e.confirmed, want)
	}
	if len(e.liveIDs) != 0 {
		t.Fatalf("liveIDs %v not cleared by replay", e.liveIDs)
	}
}

func TestEngineFiltersTypes(t *testing.T) {
	e := newEngine[history]("c", recordReducer, nil, []string{"asset.*"})
	x := ev("a", 1)
	x.EventType = "trade.created"
	mustReplay(t, e, 1, x)
	y := ev("b", 1)
	y.EventType = "asset"
	mustReplay(t, e, 2, y)
	if len(e.state["a"]) != 0 || len(e.state["b"]) != 1 || e.confirmed != 2 {
		t.Fatalf("state %v confirmed %d", e.state, e.confirmed)
	}
}

func TestEngineAdvanceLearnsLivePositions(t *testing.T) {
	e := newTestEngine()
	mustReplay(t, e, 1, ev("a", 1))
	a2, b1, a3, c1 := ev("a", 2), ev("b", 1), ev("a", 3), ev("c", 1)
	mustLive(t, e, a2)
	mustLive(t, e, b1)
	mustLive(t, e, a3)
	now := time.Unix(1000, 0)
	// c1 (position 5) has not arrived yet: the checkpoint stops before it.
	pos, err := e.advance([]pendingEvent{pend(2, a2), pend(3, b1), pend(4, a3), pend(5, c1)}, now)
	if err != nil || pos != 4 {
		t.Fatalf("advance = %d, %v; want 4", pos, err)
	}
	if len(e.liveIDs) != 0 {
		t.Fatalf("liveIDs %v: confirmed ids not dropped", e.liveIDs)
	}
	mustLive(t, e, c1)
	pos, err = e.advance([]pendingEvent{pend(5, c1)}, now)
	if err != nil || pos != 5 {
		t.Fatalf("advance = %d, %v; want 5", pos, err)
	}
	// Pending events at or below the confirmed position (the ack failed)
	// are skipped.
	pos, err = e.advance([]pendingEvent{pend(3, b1), pend(5, c1)}, now)
	if err != nil || pos != 5 {
		t.Fatalf("advance over stale cursor = %d, %v; want 5", pos, err)
	}
}

func TestEngineAdvanceDetectsMissedEvent(t *testing.T) {
	// With filters, a version jump alone proves nothing; the pending events
	// do.
	e := newEngine[history]("c", recordReducer, nil, []string{"asset.*"})
	a1, a2, a3 := ev("a", 1), ev("a", 2), ev("a", 3)
	mustReplay(t, e, 1, a1)
	// a2 was lost; a3 arrived and was applied.
	mustLive(t, e, a3)
	_, err := e.advance([]pendingEvent{pend(2, a2), pend(3, a3)}, time.Now())
	if !errors.Is(err, errGap) {
		t.Fatalf("advance = %v, want errGap", err)
	}
	if e.confirmed != 1 {
		t.Fatalf("confirmed moved to %d on a gap", e.confirmed)
	}
}

func TestEngineAdvanceDetectsStall(t *testing.T) {
	e := newTestEngine()
	e.stallTimeout = time.Second
	b1, c1 := ev("b", 1), ev("c", 1)
	mustLive(t, e, c1)
	pending := []pendingEvent{pend(1, b1), pend(2, c1)}
	t0 := time.Unix(1000, 0)
	for _, d := range []time.Duration{0, 500 * time.Millisecond} {
		if pos, err := e.advance(pending, t0.Add(d)); err != nil || pos != 0 {
			t.Fatalf("advance at +%v = %d, %v; want 0, nil", d, pos, err)
		}
	}
	if _, err := e.advance(pending, t0.Add(time.Second)); !errors.Is(err, errGap) {
		t.Fatalf("advance after the stall timeout = %v, want errGap", err)
	}
	// A missing event with nothing after it is only late, never lost.
	e2 := newTestEngine()
	e2.stallTimeout = time.Second
	for _, d := range []time.Duration{0, time.Hour} {
		if _, err := e2.advance([]pendingEvent{pend(1, b1)}, t0.Add(d)); err != nil {
			t.Fatalf("advance with a late tail = %v", err)
		}
	}
}

func TestEngineSnapshotRestoreRollback(t *testing.T) {
	e := newTestEngine()
	mustReplay(t, e, 1, ev("a", 1))
	x := ev("b", 1)
	x.TenantID = "t2"
	mustReplay(t, e, 2, x)
	s, err := e.snapshot(time.Unix(5, 0))
	if err != nil {
		t.Fatal(err)
	}
	if s.Position != 2 || s.Versions["default/a"] != 1 || s.Versions["t2/b"] != 1 || s.Applied != 2 {
		t.Fatalf("snapshot %+v", s)
	}
	e.saved(time.Unix(5, 0), time.Millisecond)
	mustLive(t, e, ev("a", 2))
	if _, err := e.snapshot(time.Unix(6, 0)); !errors.Is(err, errNotExact) {
		t.Fatalf("snapshot with an unconfirmed live event: err = %v, want errNotExact", err)
	}
	if err := e.restore(s, true); err != nil {
		t.Fatal(err)
	}
	want := history{"a": {1}, "b": {1}}
	if !equalHistory(e.state, want) || e.confirmed != 2 || e.version("default", "a") != 1 || len(e.liveIDs) != 0 {
		t.Fatalf("after rollback: state %v confirmed %d", e.state, e.confirmed)
	}
	// Replaying after the rollback applies the dropped event again, once.
	mustReplay(t, e, 3, ev("a", 2))
	want["a"] = []int64{1, 2}
	if !equalHistory(e.state, want) {
		t.Fatalf("state %v, want %v", e.state, want)
	}

	f := newTestEngine()
	if err := f.restore(s, true); err != nil {
		t.Fatal(err)
	}
	if !equalHistory(f.state, history{"a": {1}, "b": {1}}) || f.version("t2", "b") != 1 || f.applied != 2 {
		t.Fatalf("restored state %v versions %v", f.state, f.versions)
	}
}

func TestEngineRollbackWithoutSnapshotStartsEmpty(t *testing.T) {
	e := newTestEngine()
	mustLive(t, e, ev("a", 1))
	if err := e.restore(Snapshot{}, false); err != nil {
		t.Fatal(err)
	}
	if len(e.state) != 0 || e.version("default", "a") != 0 || e.confirmed != 0 {
		t.Fatalf("state %v after rollback to empty", e.state)
	}
}

func TestEngineReducerError(t *testing.T) {
	boom := errors.New("boom")
	e := newEngine[history]("c", func(h history, x Event) (history, error) {
		if x.EntityID == "bad" {
			return h, boom
		}
		return recordReducer(h, x)
	}, nil, nil)
	mustReplay(t, e, 1, ev("a", 1))
	bad := ev("bad", 1)
	err := e.replay(2, &bad)
	var re *ReducerError
	if !errors.As(err, &re) || !errors.Is(err, boom) || re.Event.Position != 2 {
		t.Fatalf("replay = %v, want a ReducerError at position 2", err)
	}
	if e.confirmed != 1 || e.version("default", "bad") != 0 {
		t.Fatalf("confirmed %d, version %d after a reducer error", e.confirmed, e.version("default", "bad"))
	}
}

func TestEngineTouched(t *testing.T) {
	e := newTestEngine()
	e.trackTouched = true
	mustReplay(t, e, 1, ev("a", 1))
	mustReplay(t, e, 2, ev("b", 1))
	mustReplay(t, e, 3, ev("a", 2))
	got := e.takeTouched()
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("touched %v", got)
	}
	if e.takeTouched() != nil {
		t.Fatal("touched not cleared")
	}
	e.retouch([]string{"b"})
	if got := e.takeTouched(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("retouched %v", got)
	}
}

func TestTypeFilter(t *testing.T) {
	f := newTypeFilter([]string{"asset.*", "exchange_mapping.set"})
	for typ, want := range map[string]bool{
		"asset": true, "asset.registered": true, "asset.a.b": true, "assets": false,
		"exchange_mapping.set": true, "exchange_mapping.del": false, "trade.created": false,
	} {
		if f.match(typ) != want {
			t.Errorf("match(%q) = %v, want %v", typ, !want, want)
		}
	}
	if !newTypeFilter(nil).match("anything") {
		t.Error("empty filter does not match everything")
	}
	got := streamFilters([]string{"asset.*", "x.y", "asset"})
	if !slices.Equal(got, []string{"asset.*", "asset", "x.y"}) {
		t.Errorf("streamFilters = %v", got)
	}
}

func TestDecode(t *testing.T) {
	type p struct{ Symbol string }
	v, err := Decode[p](Event{Event: allsource.Event{Payload: []byte(`{"Symbol":"BTC"}`)}})
	if err != nil || v.Symbol != "BTC" {
		t.Fatalf("Decode = %+v, %v", v, err)
	}
	if _, err := Decode[p](Event{Event: allsource.Event{EventType: "asset.registered", ID: "e1", Payload: []byte(`[1]`)}}); err == nil {
		t.Fatal("Decode of a mismatched payload succeeded")
	}
}

func equalHistory(a, b history) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestEngineLiveVersionJumpIsAGapWithoutFilters(t *testing.T) {
	e := newTestEngine()
	mustReplay(t, e, 1, ev("a", 1))
	x := ev("a", 3)
	if err := e.live(&x); !errors.Is(err, errGap) {
		t.Fatalf("live a@3 after a@1: err = %v, want errGap", err)
	}
	y := ev("b", 2)
	if err := e.live(&y); !errors.Is(err, errGap) {
		t.Fatalf("live b@2 with b unseen: err = %v, want errGap", err)
	}
	if len(e.state["a"]) != 1 || len(e.state["b"]) != 0 {
		t.Fatalf("state %v: an event after a gap was applied", e.state)
	}
	// With filters, versions of other types legitimately fall in between.
	f := newEngine[history]("c", recordReducer, nil, []string{"asset.*"})
	mustReplay(t, f, 1, ev("a", 1))
	mustLive(t, f, ev("a", 3))
}

// countMap is a keyed state: events per entity.
func countMap(m *Map[int], x Event) (*Map[int], error) {
	n, _ := m.Get(x.EntityID)
	m.Set(x.EntityID, n+1)
	return m, nil
}

func TestEngineKeyedSnapshotsHoldOnlyChanges(t *testing.T) {
	e := newEngine[*Map[int]]("c", countMap, NewMap[int], nil)
	for i := range 100 {
		mustApply(t, e, int64(i+1), ev(fmt.Sprintf("e%d", i), 1))
	}
	base, err := e.snapshot(time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if base.Delta || !base.Keyed || len(base.Entries) != 100 || len(base.Versions) != 100 {
		t.Fatalf("first snapshot: delta %v keyed %v, %d entries, %d versions; want a whole keyed one of 100",
			base.Delta, base.Keyed, len(base.Entries), len(base.Versions))
	}
	mustApply(t, e, 101, ev("e7", 2))
	mustApply(t, e, 102, ev("new", 1))
	e.state.Delete("e3")
	d, err := e.snapshot(time.Unix(2, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Delta || len(d.Entries) != 2 || string(d.Entries["e7"]) != "2" || string(d.Entries["new"]) != "1" ||
		!slices.Equal(d.Deleted, []string{"e3"}) || len(d.Versions) != 2 || d.Versions["default/e7"] != 2 || d.Position != 102 {
		t.Fatalf("delta = %+v, want e7=2, new=1, e3 deleted, two versions", d)
	}
	merged := base
	merged.Merge(d)
	f := newEngine[*Map[int]]("c", countMap, NewMap[int], nil)
	if err := f.restore(merged, true); err != nil {
		t.Fatal(err)
	}
	if f.state.Len() != 100 || f.confirmed != 102 || f.version("default", "e7") != 2 || f.version("default", "new") != 1 {
		t.Fatalf("restored %d entries at %d", f.state.Len(), f.confirmed)
	}
	if n, _ := f.state.Get("e7"); n != 2 {
		t.Fatalf("e7 = %d, want 2", n)
	}
	if _, ok := f.state.Get("e3"); ok {
		t.Fatal("e3 survived its deletion")
	}
	// Nothing changed: the next delta is empty.
	if d, _ := f.snapshot(time.Unix(3, 0)); !d.Delta || len(d.Entries)+len(d.Deleted)+len(d.Versions) != 0 {
		t.Fatalf("delta without changes = %+v", d)
	}
	// A whole snapshot after a failed save holds everything again.
	f.full = true
	if w, _ := f.snapshot(time.Unix(4, 0)); w.Delta || len(w.Entries) != 100 || len(w.Versions) != 101 {
		t.Fatalf("whole snapshot = delta %v, %d entries, %d versions", w.Delta, len(w.Entries), len(w.Versions))
	}
}

func mustApply[S any](t *testing.T, e *engine[S], pos int64, x Event) {
	t.Helper()
	if err := e.replay(pos, &x); err != nil {
		t.Fatal(err)
	}
}
