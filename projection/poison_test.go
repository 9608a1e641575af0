package projection

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func waitDone[S any](t *testing.T, h *Handle[S]) {
	t.Helper()
	select {
	case <-h.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("worker still running")
	}
}

func TestReducerPanicIsRecoveredAndReported(t *testing.T) {
	f := newFixture(t)
	f.ingest(300, 5, "test.created")
	store := NewFileStore(t.TempDir())
	cfg := f.config("panicky", store)
	cfg.Reducer = func(s aggState, ev Event) (aggState, error) {
		if ev.Position == 123 {
			var m map[string]int
			//lint:ignore SA5000 a write to a nil map is the panic under test
			m["boom"] = 1
		}
		return aggReducer(s, ev)
	}
	h, err := Start(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, h)
	var re *ReducerError
	var pe *PanicError
	if err := h.Err(); !errors.As(err, &re) || !errors.As(err, &pe) || re.Event.Position != 123 || len(pe.Stack) == 0 {
		t.Fatalf("Err() = %v, want a ReducerError at 123 holding a PanicError with its stack", err)
	}
	if c := f.cursor("panicky"); c >= 123 {
		t.Fatalf("cursor %d: the panicking event's position was acknowledged", c)
	}
	// The lock the reducer ran under was released.
	h.Read(func(aggState) {})
}

func TestPoisonRetriesWithBackoff(t *testing.T) {
	f := newFixture(t)
	f.ingest(200, 5, "test.created")
	cfg := f.config("retrying", NewFileStore(t.TempDir()))
	var fails atomic.Int32
	cfg.Reducer = func(s aggState, ev Event) (aggState, error) {
		if ev.Position == 50 && fails.Add(1) <= 3 {
			return s, errors.New("transient")
		}
		return aggReducer(s, ev)
	}
	cfg.Poison = PoisonPolicy{Retries: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	h := f.start(cfg)
	waitCaughtUp(t, h)
	f.waitState(h)
	if fails.Load() != 4 {
		t.Fatalf("reducer tried %d times on the failing event, want 4", fails.Load())
	}

	// One retry fewer than needed: the worker stops.
	f2 := newFixture(t)
	f2.ingest(100, 5, "test.created")
	cfg2 := f2.config("giving-up", NewFileStore(t.TempDir()))
	fails.Store(0)
	cfg2.Reducer = cfg.Reducer
	cfg2.Poison = PoisonPolicy{Retries: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	h2, err := Start(context.Background(), f2.c, cfg2)
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, h2)
	var re *ReducerError
	if err := h2.Err(); !errors.As(err, &re) || re.Event.Position != 50 || fails.Load() != 3 {
		t.Fatalf("Err() = %v after %d tries, want a ReducerError at 50 after 3", err, fails.Load())
	}
}

func TestPoisonSkipRecordsDeadLettersAndReplays(t *testing.T) {
	f := newFixture(t)
	f.ingest(400, 8, "test.created")
	dir := t.TempDir()
	store := NewFileStore(dir)
	dead := NewFileDeadLetters(filepath.Join(dir, "dead.jsonl"))
	var fixed atomic.Bool
	cfg := f.config("skipping", store)
	cfg.Reducer = func(s aggState, ev Event) (aggState, error) {
		if !fixed.Load() && (ev.Position == 77 || ev.Position == 301) {
			if ev.Position == 301 {
				panic("bad payload")
			}
			return s, errors.New("cannot handle")
		}
		// Counts only: a replayed dead letter comes after later versions
		// of its entity.
		a := s[ev.EntityID]
		if a == nil {
			a = &agg{}
			s[ev.EntityID] = a
		}
		a.Count++
		return s, nil
	}
	cfg.Poison = PoisonPolicy{Action: PoisonSkip, DeadLetters: dead}
	h := f.start(cfg)
	waitCaughtUp(t, h)
	eventually(t, func() bool { return h.Stats().Applied == 398 }, func() string { return "applied " + itoa(h.Stats().Applied) })
	if h.Err() != nil || h.Stats().Skipped != 2 {
		t.Fatalf("Err() = %v, skipped %d; want the worker running with 2 skipped", h.Err(), h.Stats().Skipped)
	}
	letters, err := dead.List(context.Background(), "skipping")
	if err != nil || len(letters) != 2 || letters[0].Event.Position != 77 || letters[1].Event.Position != 301 ||
		letters[0].Error == "" || letters[1].Error != "reducer panicked: bad payload" {
		t.Fatalf("dead letters = %+v, %v", letters, err)
	}
	// The skipped events count as handled: later events of their entities
	// are applied, and the checkpoint moves past them.
	eventually(t, func() bool { return f.cursor("skipping") == 400 }, func() string { return "cursor " + itoa(f.cursor("skipping")) })

	fixed.Store(true)
	n, err := h.ReplayDeadLetters(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("ReplayDeadLetters = %d, %v", n, err)
	}
	if left, _ := dead.List(context.Background(), "skipping"); len(left) != 0 {
		t.Fatalf("dead letters left after replay: %+v", left)
	}
	var total int64
	h.Read(func(s aggState) {
		for _, a := range s {
			total += a.Count
		}
	})
	if total != 400 {
		t.Fatalf("state counts %d events after the replay, want 400", total)
	}
	stop(t, h)
	// The replayed events were saved: a restart holds them, once.
	h2 := f.start(cfg)
	waitCaughtUp(t, h2)
	total = 0
	h2.Read(func(s aggState) {
		for _, a := range s {
			total += a.Count
		}
	})
	if total != 400 {
		t.Fatalf("after restart the state counts %d events, want 400", total)
	}
}

func TestPoisonConfigIsChecked(t *testing.T) {
	f := newFixture(t)
	for _, p := range []PoisonPolicy{{Action: PoisonSkip}, {Retries: -1}, {Action: 7}} {
		cfg := f.config("bad-poison", NewFileStore(t.TempDir()))
		cfg.Poison = p
		if _, err := Start(context.Background(), f.c, cfg); err == nil {
			t.Errorf("Start with %+v succeeded", p)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
