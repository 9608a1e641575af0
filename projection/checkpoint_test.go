package projection

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// gatedStore is a FileStore whose saves, by number (the first is 1), may be
// held at a gate: such a save reports itself on entered, then waits for
// its gate to be opened before it writes.
type gatedStore struct {
	*FileStore

	entered chan savedDelta
	mu      sync.Mutex
	begun   int
	gates   map[int]chan struct{}
	saved   []savedDelta // the saves that returned without error, in order
}

// savedDelta describes a snapshot handed to the store.
type savedDelta struct {
	pos     int64
	delta   bool
	entries int
}

func newGatedStore(t *testing.T, dir string, gated ...int) *gatedStore {
	g := &gatedStore{FileStore: NewFileStore(dir), entered: make(chan savedDelta, len(gated)), gates: map[int]chan struct{}{}}
	for _, i := range gated {
		g.gates[i] = make(chan struct{})
	}
	t.Cleanup(g.openAll)
	return g
}

// openAll lets every save through.
func (g *gatedStore) openAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, gate := range g.gates {
		close(gate)
		delete(g.gates, i)
	}
}

// open lets save i through.
func (g *gatedStore) open(i int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gate := g.gates[i]; gate != nil {
		close(gate)
		delete(g.gates, i)
	}
}

func (g *gatedStore) Save(ctx context.Context, name string, s Snapshot) error {
	d := savedDelta{pos: s.Position, delta: s.Delta, entries: len(s.Entries)}
	g.mu.Lock()
	g.begun++
	gate := g.gates[g.begun]
	g.mu.Unlock()
	if gate != nil {
		g.entered <- d
		<-gate
	}
	if err := g.FileStore.Save(ctx, name, s); err != nil {
		return err
	}
	g.mu.Lock()
	g.saved = append(g.saved, d)
	g.mu.Unlock()
	return nil
}

// durable returns the position of the last snapshot saved.
func (g *gatedStore) durable() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.saved) == 0 {
		return 0
	}
	return g.saved[len(g.saved)-1].pos
}

func (m *memoryCore) cursor(consumer string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[consumer]
}

// crashImage copies the files of dir, as a crash at this moment would leave
// them, into a new directory.
func crashImage(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.IsDir() || strings.HasPrefix(f.Name(), ".") {
			continue // a temporary file a crash leaves behind is never read
		}
		data, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, f.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// checkCounts fails unless m counts, for each of entities entities, the
// events recordReplay(n, entities) gives it: none lost, none applied twice.
func checkCounts(t *testing.T, what string, m *Map[int64], n, entities int) {
	t.Helper()
	if m.Len() != min(n, entities) {
		t.Fatalf("%s: %d entities, want %d", what, m.Len(), min(n, entities))
	}
	for e := range min(n, entities) {
		want := int64(n / entities)
		if e < n%entities {
			want++
		}
		if got, _ := m.Get(fmt.Sprint("asset-", e)); got != want {
			t.Fatalf("%s: entity %d counts %d events, want %d", what, e, got, want)
		}
	}
}

// finishCatchUp lets h catch up with the n events of recordReplay(n,
// entities), stops it, and fails unless every entity's count is right and
// the cursor was acknowledged up to the last event.
func finishCatchUp(ctx context.Context, t *testing.T, h *Handle[*Map[int64]], core *memoryCore, name string, n, entities int) {
	t.Helper()
	if err := h.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	h.Read(func(m *Map[int64]) { checkCounts(t, "after the catch-up", m, n, entities) })
	if c := core.cursor(name); c != int64(n) {
		t.Fatalf("cursor %d after the final checkpoint, want %d", c, n)
	}
}

// TestCheckpointsCoalesceWhileASaveIsInFlight holds the second and third
// saves of a catch-up and checks that the worker goes on applying while a
// save is in flight, up to CheckpointEvents events not yet durable; that
// the next checkpoint, taken once the save is over, covers every change
// since the one in flight; that the cursor is acknowledged only up to what
// is durable; and that a crash while a save is in flight, after changes
// coalesced, loses no event and applies none twice on restart. Checkpoints
// fall due by events, and by time (a tick every millisecond).
func TestCheckpointsCoalesceWhileASaveIsInFlight(t *testing.T) {
	// Every event of the first 50,000 touches a new entity, so a delta
	// holds one entry per event it covers.
	const n, entities, every = 100_000, 50_000, 20_000
	rec := recordReplay(n, entities)
	for _, period := range []time.Duration{time.Hour, time.Millisecond} {
		t.Run(fmt.Sprint("period=", period), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			store := newGatedStore(t, dir, 2, 3)
			core := &memoryCore{rec: rec}
			cfg := Config[*Map[int64]]{
				Name: "coalesce", Reducer: countPerEntity, Store: store,
				CheckpointEvents: every, CheckpointPeriod: period, Logger: testLogger(t),
			}
			h, err := start(ctx, core, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Stop(ctx)
			defer store.openAll() // before Stop, which waits for the saves
			enter := func() savedDelta {
				t.Helper()
				select {
				case d := <-store.entered:
					return d
				case <-time.After(10 * time.Second):
					t.Fatal("no save reached its gate")
					return savedDelta{}
				}
			}
			applied := func() int64 { return h.Stats().Applied }

			// Save 2 is held. The worker goes on applying until the events
			// not yet durable (those after save 1) reach CheckpointEvents,
			// and acknowledges nothing past save 1.
			s2 := enter()
			pos1 := store.durable()
			if !s2.delta || s2.entries != int(s2.pos-pos1) {
				t.Fatalf("save 2: %+v after save 1 at %d; want a delta of the %d events since", s2, pos1, s2.pos-pos1)
			}
			eventually(t, func() bool { return applied() == pos1+every },
				func() string {
					return fmt.Sprintf("applied %d with save 2 (at %d) in flight, want %d: save 1 at %d plus CheckpointEvents", applied(), s2.pos, pos1+every, pos1)
				})
			time.Sleep(20 * time.Millisecond)
			if got := applied(); got != pos1+every {
				t.Fatalf("applied %d past the bound %d", got, pos1+every)
			}
			if c := core.cursor(cfg.Name); c > pos1 {
				t.Fatalf("cursor %d acknowledged past the durable snapshot at %d", c, pos1)
			}
			if st := h.Stats(); st.Checkpoints != 1 {
				t.Fatalf("%d checkpoints reported with save 2 in flight, want 1", st.Checkpoints)
			}
			imageA, cursorA := crashImage(t, dir), core.cursor(cfg.Name)

			// Save 2 done, save 3 takes every change since save 2, those
			// of the checkpoints that fell due while it was in flight.
			store.open(2)
			s3 := enter()
			if !s3.delta || s3.pos != pos1+every || s3.entries != int(s3.pos-s2.pos) {
				t.Fatalf("save 3: %+v after save 2 at %d; want a delta at %d of the %d events since", s3, s2.pos, pos1+every, pos1+every-s2.pos)
			}
			eventually(t, func() bool { return applied() > s3.pos },
				func() string { return fmt.Sprintf("applied %d with save 3 (at %d) in flight", applied(), s3.pos) })
			eventually(t, func() bool { return core.cursor(cfg.Name) == s2.pos },
				func() string {
					return fmt.Sprintf("cursor %d, want save 2's position %d", core.cursor(cfg.Name), s2.pos)
				})
			imageB, cursorB := crashImage(t, dir), core.cursor(cfg.Name)

			store.open(3)
			finishCatchUp(ctx, t, h, core, cfg.Name, n, entities)

			// A crash with save 2 in flight resumes from save 1; one with
			// save 3 in flight, from save 2.
			for _, img := range []struct {
				name   string
				dir    string
				cursor int64
				from   int64
			}{{"save 2 in flight", imageA, cursorA, pos1}, {"save 3 in flight", imageB, cursorB, s2.pos}} {
				cfg.Store = NewFileStore(img.dir)
				core := &memoryCore{rec: rec, cursors: map[string]int64{cfg.Name: img.cursor}}
				h, err := start(ctx, core, cfg)
				if err != nil {
					t.Fatalf("restart after a crash with %s: %v", img.name, err)
				}
				if err := h.WaitCaughtUp(ctx); err != nil {
					t.Fatal(err)
				}
				if st := h.Stats(); st.Applied != n-img.from {
					t.Fatalf("restart after a crash with %s applied %d events, want the %d after position %d", img.name, st.Applied, n-img.from, img.from)
				}
				h.Read(func(m *Map[int64]) { checkCounts(t, "restart after a crash with "+img.name, m, n, entities) })
				if err := h.Stop(ctx); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestCheckpointDueByTimeDoesNotWaitForASaveInFlight holds the second save
// of a catch-up whose checkpoints fall due by time only, pauses the stream
// so that the worker idles (and its ticker runs) while that save is in
// flight, then resumes it: the worker applies the rest of the replay
// without waiting for the save.
func TestCheckpointDueByTimeDoesNotWaitForASaveInFlight(t *testing.T) {
	const n, entities, pause = 60_000, 1000, 30_000
	ctx := context.Background()
	store := newGatedStore(t, t.TempDir(), 2)
	core := &memoryCore{rec: recordReplay(n, entities), pauseAt: pause, resume: make(chan struct{})}
	cfg := Config[*Map[int64]]{
		Name: "tick", Reducer: countPerEntity, Store: store,
		CheckpointEvents: 1 << 30, CheckpointPeriod: time.Millisecond, Logger: testLogger(t),
	}
	h, err := start(ctx, core, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop(ctx)
	defer store.openAll() // before Stop, which waits for the saves
	// The reader holds back the last frames before the pause, waiting for
	// more to batch them with.
	paused := func() bool { return h.Stats().Replayed >= pause-maxBatch }
	select {
	case <-store.entered:
		eventually(t, paused, func() string {
			return fmt.Sprintf("replayed %d, want about the %d before the pause", h.Stats().Replayed, pause)
		})
		time.Sleep(20 * time.Millisecond) // ticks while save 2 is in flight
		close(core.resume)
	case <-untilTrue(t, func() bool { return paused() && h.Stats().Checkpoints == 1 }):
		// On a loaded machine the first checkpoint may come only once the
		// replay is paused, and cover all of it: save 2 then starts after
		// the replay resumes, and the rest is applied while it is in
		// flight all the same.
		close(core.resume)
		select {
		case <-store.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("save 2 was not taken after the pause: %+v", h.Stats())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("save 2 was not taken: %+v", h.Stats())
	}
	eventually(t, func() bool { return h.Stats().Applied == n },
		func() string {
			return fmt.Sprintf("applied %d of %d events with save 2 in flight", h.Stats().Applied, n)
		})
	if st := h.Stats(); st.Checkpoints != 1 || core.cursor(cfg.Name) > store.durable() {
		t.Fatalf("%d checkpoints, cursor %d, durable %d; want 1 checkpoint and nothing acknowledged past it", st.Checkpoints, core.cursor(cfg.Name), store.durable())
	}
	store.open(2)
	finishCatchUp(ctx, t, h, core, cfg.Name, n, entities)
}

// keepingStore keeps the snapshots it is given in memory, deltas merged
// into the whole one with Snapshot.Merge, as a store written the obvious
// way does: it keeps what Save hands it.
type keepingStore struct {
	mu    sync.Mutex
	kept  map[string]Snapshot
	saves int
}

func (k *keepingStore) Load(_ context.Context, name string) (Snapshot, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.kept[name]
	return s, ok, nil
}

func (k *keepingStore) Save(_ context.Context, name string, s Snapshot) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kept == nil {
		k.kept = make(map[string]Snapshot)
	}
	if old, ok := k.kept[name]; ok && s.Delta {
		old.Merge(s)
		s = old
	}
	k.kept[name] = s
	k.saves++
	return nil
}

// TestStoreMayKeepWhatSaveIsGiven runs a catch-up with many small deltas
// into a store that keeps the snapshots it is given, then restores a fresh
// worker from what it kept: every count must be right, so no later
// checkpoint wrote over the entries of an earlier one.
func TestStoreMayKeepWhatSaveIsGiven(t *testing.T) {
	const n, entities = 40_000, 3_000
	ctx := context.Background()
	rec := recordReplay(n, entities)
	store := &keepingStore{}
	core := &memoryCore{rec: rec}
	cfg := Config[*Map[int64]]{Name: "keep", Reducer: countPerEntity, Store: store, CheckpointEvents: 2_000, Logger: testLogger(t)}
	h, err := start(ctx, core, cfg)
	if err != nil {
		t.Fatal(err)
	}
	finishCatchUp(ctx, t, h, core, cfg.Name, n, entities)
	if store.saves < 10 {
		t.Fatalf("%d saves, want many deltas", store.saves)
	}
	// The kept snapshot alone, restored with nothing left to replay.
	restored := &memoryCore{rec: rec, cursors: map[string]int64{cfg.Name: n}}
	h, err = start(ctx, restored, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Applied != 0 {
		t.Fatalf("restored worker applied %d events, want none", st.Applied)
	}
	h.Read(func(m *Map[int64]) { checkCounts(t, "restored from the kept snapshots", m, n, entities) })
	if err := h.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
