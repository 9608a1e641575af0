package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allsource-go/allsource/coretest"
)

func TestColdStartAppliesEveryEvent(t *testing.T) {
	f := newFixture(t)
	f.ingest(1000, 37, "test.created")
	store := NewFileStore(t.TempDir())
	h := f.start(f.config("cold", store))
	waitCaughtUp(t, h)
	f.waitState(h)
	st := h.Stats()
	if st.Applied != 1000 || st.Replayed != 1000 {
		t.Fatalf("stats %+v, want 1000 applied and replayed", st)
	}
	eventually(t, func() bool { return h.Stats().Acked == 1000 && f.cursor("cold") == 1000 },
		func() string { return fmt.Sprintf("acked %d, cursor %d, want 1000", h.Stats().Acked, f.cursor("cold")) })
	snap, found, err := store.Load(context.Background(), "cold")
	if err != nil || !found || snap.Position != 1000 {
		t.Fatalf("snapshot at %d (found %v, err %v), want 1000", snap.Position, found, err)
	}
	// Live events after the catch-up.
	f.ingest(300, 37, "test.updated")
	f.waitState(h)
	stop(t, h)
	if c := f.cursor("cold"); c != 1300 {
		t.Fatalf("cursor after Stop = %d, want 1300", c)
	}
}

func TestRestartResumesFromSnapshot(t *testing.T) {
	f := newFixture(t)
	store := NewFileStore(t.TempDir())
	f.ingest(500, 10, "test.created")
	h := f.start(f.config("restart", store))
	waitCaughtUp(t, h)
	f.ingest(200, 10, "test.updated") // live
	f.waitState(h)
	stop(t, h)

	f.ingest(250, 13, "test.updated") // while stopped
	h2 := f.start(f.config("restart", store))
	waitCaughtUp(t, h2)
	f.waitState(h2)
	st := h2.Stats()
	if st.Replayed != 250 || st.Applied != 250 {
		t.Fatalf("restart replayed %d and applied %d events, want the 250 written while stopped", st.Replayed, st.Applied)
	}
	got, err := h2.State()
	if err != nil {
		t.Fatal(err)
	}
	if lost, twice, diff := f.truth.compare(got); diff != "" || lost != 0 || twice != 0 {
		t.Fatalf("state after restart: lost %d, twice %d: %s", lost, twice, diff)
	}
}

func TestLiveBatchesAndCheckpointsWhileLive(t *testing.T) {
	f := newFixture(t, withBatching())
	store := NewFileStore(t.TempDir())
	h := f.start(f.config("batches", store))
	waitCaughtUp(t, h)
	for range 10 {
		f.ingest(100, 7, "test.created")
		time.Sleep(10 * time.Millisecond)
	}
	f.waitState(h)
	// The checkpoint keeps advancing while live, without a stop.
	deadline := time.Now().Add(10 * time.Second)
	for f.cursor("batches") != 1000 {
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d while live, want 1000; stats %+v", f.cursor("batches"), h.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := h.Stats(); st.Live != 1000 || st.Replayed != 0 {
		t.Fatalf("stats %+v, want 1000 live events", st)
	}
}

func TestReducerErrorStopsWorker(t *testing.T) {
	f := newFixture(t)
	f.ingest(450, 5, "test.created")
	store := NewFileStore(t.TempDir())
	cfg := f.config("failing", store)
	boom := errors.New("boom")
	cfg.Reducer = func(s aggState, ev Event) (aggState, error) {
		if ev.Position == 321 {
			return s, boom
		}
		return aggReducer(s, ev)
	}
	h, err := Start(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("worker still running after a reducer error")
	}
	var re *ReducerError
	if err := h.Err(); !errors.As(err, &re) || !errors.Is(err, boom) || re.Event.Position != 321 {
		t.Fatalf("Err() = %v, want the reducer error at position 321", err)
	}
	if err := h.WaitCaughtUp(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("WaitCaughtUp = %v, want the reducer error", err)
	}
	if c := f.cursor("failing"); c >= 321 {
		t.Fatalf("cursor %d: the failing event's position was acknowledged", c)
	}
	if snap, _, _ := store.Load(context.Background(), "failing"); snap.Position >= 321 {
		t.Fatalf("snapshot at %d, past the failing event", snap.Position)
	}
	if err := h.Stop(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Stop = %v, want the reducer error", err)
	}
}

func TestStartRefusesCursorAheadOfSnapshot(t *testing.T) {
	f := newFixture(t)
	f.ingest(10, 2, "test.created")
	store := NewFileStore(t.TempDir())
	h := f.start(f.config("lost-snapshot", store))
	waitCaughtUp(t, h)
	stop(t, h)
	_, err := Start(context.Background(), f.c, f.config("lost-snapshot", NewFileStore(t.TempDir())))
	if !errors.Is(err, ErrSnapshotBehind) {
		t.Fatalf("Start with an empty store and cursor 10: err = %v, want ErrSnapshotBehind", err)
	}
}

func TestStopFlushesAndAcks(t *testing.T) {
	f := newFixture(t)
	f.ingest(100, 5, "test.created")
	store := NewFileStore(t.TempDir())
	cfg := f.config("stop-flush", store)
	cfg.Initial = nil // the zero state: a nil map the reducer makes
	// No checkpoint but the one Stop takes, and no push but Stop's.
	cfg.CheckpointEvents = 1 << 30
	cfg.CheckpointPeriod = time.Hour
	cfg.Push = &Push[aggState]{
		Period: time.Hour,
		Entities: func(s aggState, touched []string) []EntityState {
			var out []EntityState
			for _, id := range touched {
				out = append(out, EntityState{EntityID: id, State: s[id]})
			}
			return out
		},
	}
	h := f.start(cfg)
	waitCaughtUp(t, h)
	eventually(t, func() bool { return f.cursor("stop-flush") == 100 }, func() string { return "replay not acknowledged" })
	f.ingest(250, 5, "test.updated") // live: nothing checkpoints these
	f.waitState(h)
	if c := f.cursor("stop-flush"); c != 100 {
		t.Fatalf("cursor %d before Stop, want 100", c)
	}
	// The push at the catch-up holds e-1's first 20 events; the live ones
	// wait for Stop.
	pushed := func() agg {
		raw, found, err := f.pushedState(h.w.projName, "e-1")
		if err != nil || !found {
			t.Fatalf("EntityState(e-1): found %v, err %v", found, err)
		}
		var a agg
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := pushed(); a.Count != 20 {
		t.Fatalf("pushed e-1 holds %d events before Stop, want the 20 of the replay", a.Count)
	}
	stop(t, h)
	if c := f.cursor("stop-flush"); c != 350 {
		t.Fatalf("cursor %d after Stop, want 350", c)
	}
	snap, _, err := store.Load(context.Background(), "stop-flush")
	if err != nil || snap.Position != 350 || snap.Applied != 350 {
		t.Fatalf("snapshot at %d with %d applied (err %v), want 350", snap.Position, snap.Applied, err)
	}
	if a := pushed(); a != *f.truth.m["e-1"] {
		t.Fatalf("pushed e-1 after Stop = %+v, want %+v", a, *f.truth.m["e-1"])
	}
	st, err := h.State()
	if err != nil {
		t.Fatal(err)
	}
	if lost, twice, diff := f.truth.compare(st); lost+twice != 0 || diff != "" {
		t.Fatalf("state after Stop: %s", diff)
	}
}

func TestStopDeadline(t *testing.T) {
	f := newFixture(t)
	f.ingest(50, 5, "test.created")
	cfg := f.config("stop-deadline", NewFileStore(t.TempDir()))
	cfg.CheckpointEvents = 1 << 30 // only Stop checkpoints the live events
	cfg.CheckpointPeriod = time.Hour
	h := f.start(cfg)
	waitCaughtUp(t, h)
	f.ingest(50, 5, "test.updated")
	f.waitState(h)
	f.srv.Inject(coretest.Core, "pollConsumerEvents", 0, coretest.Fault{Delay: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := h.Stop(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want the deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Stop took %v past a 100ms deadline", d)
	}
	select {
	case <-h.Done():
	default:
		t.Fatal("worker still running after Stop returned")
	}
}

func TestFiltersMatchLikeTheConsumerRegistry(t *testing.T) {
	// The registry's "test.*" also matches the type "test"; the live
	// stream's does not, so the worker subscribes to "test" as well.
	// Events of other types are neither applied nor block checkpoints.
	f := newFixture(t)
	f.ingest(100, 5, "test")
	other := &fixture{t: t, srv: f.srv, w: f.w, truth: newTruth(), prefix: "other-"}
	other.ingest(50, 3, "other.created")
	h := f.start(f.config("filters", NewFileStore(t.TempDir())))
	waitCaughtUp(t, h)
	f.ingest(100, 5, "test")
	other.ingest(50, 3, "other.created")
	f.ingest(100, 5, "test.updated")
	f.waitState(h)
	if st := h.Stats(); st.Applied != 300 || st.Live != 200 {
		t.Fatalf("stats %+v, want 300 applied, 200 of them live", st)
	}
	stop(t, h)
	if c := f.cursor("filters"); c != 400 {
		t.Fatalf("cursor %d after Stop, want 400 (the last matching event)", c)
	}
}

func TestStartRefusesChangedEventTypes(t *testing.T) {
	f := newFixture(t)
	f.ingest(10, 2, "test.created")
	store := NewFileStore(t.TempDir())
	h := f.start(f.config("types", store))
	waitCaughtUp(t, h)
	stop(t, h)
	cfg := f.config("types", store)
	cfg.EventTypes = []string{"test.*", "other.*"}
	if _, err := Start(context.Background(), f.c, cfg); !errors.Is(err, ErrEventTypesChanged) {
		t.Fatalf("Start with another event type: err = %v, want ErrEventTypesChanged", err)
	}
	// The same types in another order are the same filter.
	cfg.EventTypes = []string{"test.*", "test.*"}
	h = f.start(cfg)
	waitCaughtUp(t, h)
	f.waitState(h)
}

// keyedAgg is aggReducer over a keyed state.
func keyedAgg(m *Map[agg], ev Event) (*Map[agg], error) {
	a, _ := m.Get(ev.EntityID)
	s := aggState{ev.EntityID: &a}
	if _, err := aggReducer(s, ev); err != nil {
		return m, err
	}
	m.Set(ev.EntityID, a)
	return m, nil
}

func keyedConfig(f *fixture, name string, store SnapshotStore) Config[*Map[agg]] {
	c := f.config(name, store)
	return Config[*Map[agg]]{
		Name: c.Name, EventTypes: c.EventTypes, Reducer: keyedAgg, Store: store,
		CheckpointEvents: c.CheckpointEvents, CheckpointPeriod: c.CheckpointPeriod,
		MinBackoff: c.MinBackoff, MaxBackoff: c.MaxBackoff, StallTimeout: c.StallTimeout, Logger: c.Logger,
	}
}

func keyedSnapshotOf(h *Handle[*Map[agg]]) aggState {
	out := aggState{}
	h.Read(func(m *Map[agg]) {
		for k, v := range m.All() {
			out[k] = &v
		}
	})
	return out
}

func TestKeyedStateCheckpointsChangesAndResumes(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	store := NewFileStore(dir)
	f.ingest(500, 50, "test.created")
	cfg := keyedConfig(f, "keyed", store)
	h, err := Start(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.WaitCaughtUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.ingest(300, 7, "test.updated") // live, touching 7 entities
	eventually(t, func() bool { _, _, d := f.truth.compare(keyedSnapshotOf(h)); return d == "" },
		func() string { _, _, d := f.truth.compare(keyedSnapshotOf(h)); return d })
	if err := h.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The checkpoints after the first hold the changes only: deltas of at
	// most 50 entries, not the state again.
	files, _ := filepath.Glob(filepath.Join(dir, "*.delta-*.json"))
	if len(files) == 0 {
		t.Fatal("no delta was saved")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var r record
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		if !r.Delta || len(r.Entries) > 50 || len(r.Versions) != len(r.Entries) {
			t.Fatalf("%s: delta %v with %d entries and %d versions", filepath.Base(file), r.Delta, len(r.Entries), len(r.Versions))
		}
	}

	f.ingest(250, 13, "test.updated") // while stopped
	h2, err := Start(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Stop(context.Background())
	if err := h2.WaitCaughtUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := h2.Stats(); st.Replayed != 250 || st.Applied != 250 {
		t.Fatalf("restart replayed %d and applied %d events, want the 250 written while stopped", st.Replayed, st.Applied)
	}
	if lost, twice, diff := f.truth.compare(keyedSnapshotOf(h2)); diff != "" || lost != 0 || twice != 0 {
		t.Fatalf("state after restart: lost %d, twice %d: %s", lost, twice, diff)
	}
	got, err := h2.State()
	if err != nil || got.Len() != 50 {
		t.Fatalf("State() = %d entries, %v", got.Len(), err)
	}
}

func TestConfigRefusesNonsenseWithASentinel(t *testing.T) {
	f := newFixture(t)
	for name, change := range map[string]func(*Config[aggState]){
		"no name":                   func(c *Config[aggState]) { c.Name = "" },
		"no reducer":                func(c *Config[aggState]) { c.Reducer = nil },
		"no store":                  func(c *Config[aggState]) { c.Store = nil },
		"events negative":           func(c *Config[aggState]) { c.CheckpointEvents = -1 },
		"period in events (100 ns)": func(c *Config[aggState]) { c.CheckpointPeriod = 100 },
		"period negative":           func(c *Config[aggState]) { c.CheckpointPeriod = -time.Second },
		"stall under 1ms":           func(c *Config[aggState]) { c.StallTimeout = 5 },
		"backoff min above max":     func(c *Config[aggState]) { c.MinBackoff, c.MaxBackoff = time.Second, time.Millisecond },
		"push period 50 ns": func(c *Config[aggState]) {
			c.Push = &Push[aggState]{Period: 50, Entities: func(aggState, []string) []EntityState { return nil }}
		},
		"bad filter": func(c *Config[aggState]) { c.EventTypes = []string{"a.*.b"} },
	} {
		cfg := f.config("config-"+strings.ReplaceAll(name, " ", "-"), NewFileStore(t.TempDir()))
		change(&cfg)
		_, err := Start(context.Background(), f.c, cfg)
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Start = %v, want ErrInvalidConfig", name, err)
		}
	}
	cfg := f.config("config-period", NewFileStore(t.TempDir()))
	cfg.CheckpointPeriod = 100
	_, err := Start(context.Background(), f.c, cfg)
	if err == nil || !strings.Contains(err.Error(), "CheckpointPeriod is 100ns, under a millisecond") {
		t.Errorf("Start with CheckpointPeriod 100 = %v, want it to name the field and the unit", err)
	}
}

func TestStartContextGovernsStartOnly(t *testing.T) {
	f := newFixture(t)
	f.ingest(100, 5, "test.created")
	store := NewFileStore(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	h, err := Start(ctx, f.c, f.config("start-ctx", store))
	if err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, h)
	cancel()
	f.ingest(50, 5, "test.updated")
	f.waitState(h) // still applying live events
	select {
	case <-h.Done():
		t.Fatal("canceling Start's context stopped the worker")
	default:
	}
	stop(t, h) // Stop ends it, with a final checkpoint
	if c := f.cursor("start-ctx"); c != 150 {
		t.Fatalf("cursor %d after Stop, want 150", c)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, f.c, f.config("start-ctx", store)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start with a canceled context = %v", err)
	}
}

func TestOnErrorSeesTransientErrorsAndMayPanic(t *testing.T) {
	f := newFixture(t)
	f.ingest(300, 5, "test.created")
	f.srv.Inject(coretest.Core, "ackConsumer", 3, coretest.Fault{Status: 503})
	cfg := f.config("on-error", NewFileStore(t.TempDir()))
	var seen atomic.Int32
	cfg.OnError = func(err error) {
		seen.Add(1)
		panic("a careless callback")
	}
	h := f.start(cfg)
	waitCaughtUp(t, h)
	f.ingest(100, 5, "test.updated")
	f.waitState(h)
	eventually(t, func() bool { return f.cursor("on-error") == 400 }, func() string { return "cursor never reached 400" })
	if seen.Load() == 0 || h.Err() != nil {
		t.Fatalf("OnError called %d times, Err() = %v; want calls and a running worker", seen.Load(), h.Err())
	}
}

func TestDrainAppliesWhatWasReceived(t *testing.T) {
	f := newFixture(t)
	f.ingest(2000, 5, "test.created")
	h := f.start(f.config("drain", NewFileStore(t.TempDir())))
	waitCaughtUp(t, h)
	f.ingest(200, 5, "test.updated")
	f.waitState(h)
	if err := h.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := f.cursor("drain"); c != 2200 {
		t.Fatalf("cursor %d after Drain, want 2200", c)
	}
	if err := h.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after Drain = %v", err)
	}
}
