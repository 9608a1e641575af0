package projection

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/allsource-go/allsource/coretest"
)

func TestReplayOverlapIsDeduplicated(t *testing.T) {
	f := newFixture(t)
	f.ingest(1000, 20, "test.created")
	cfg := f.config("overlap", NewFileStore(t.TempDir()))
	// No checkpoint while live: after a reconnect, Core replays the live
	// events the worker has already applied.
	cfg.CheckpointEvents = 1 << 30
	cfg.CheckpointPeriod = time.Hour
	h := f.start(cfg)
	waitCaughtUp(t, h)
	f.ingest(400, 20, "test.updated")
	f.waitState(h)
	f.srv.DropStreams()
	f.ingest(100, 20, "test.updated")
	f.waitState(h)
	st := h.Stats()
	if st.Connects != 2 || st.Replayed < 1400 || st.Duplicates < 400 {
		t.Fatalf("stats %+v: want a second connection replaying the 400 live events as duplicates", st)
	}
	if st.Applied != 1500 {
		t.Fatalf("applied %d events, want 1500", st.Applied)
	}
}

func TestStreamDroppedMidReplay(t *testing.T) {
	f := newFixture(t)
	f.ingest(2000, 11, "test.created")
	f.srv.DropStreamAfter(700)
	h := f.start(f.config("drop-replay", NewFileStore(t.TempDir())))
	waitCaughtUp(t, h)
	f.waitState(h)
	st := h.Stats()
	if st.Connects < 2 {
		t.Fatalf("stats %+v: the stream was not dropped", st)
	}
	if st.Applied != 2000 {
		t.Fatalf("applied %d events, want 2000", st.Applied)
	}
}

func TestStreamDroppedMidLive(t *testing.T) {
	f := newFixture(t)
	h := f.start(f.config("drop-live", NewFileStore(t.TempDir())))
	waitCaughtUp(t, h)
	for i := range 6 {
		f.ingest(150, 9, "test.created")
		if i%2 == 0 {
			f.srv.DropStreams()
		}
	}
	f.waitState(h)
	st := h.Stats()
	if st.Connects < 2 {
		t.Fatalf("stats %+v: no reconnect", st)
	}
	stop(t, h)
	if c := f.cursor("drop-live"); c != 900 {
		t.Fatalf("cursor %d after Stop, want 900", c)
	}
}

func TestLaggedNoticeRecoversMissedEvents(t *testing.T) {
	f := newFixture(t, coretest.WithStreamBuffer(8))
	cfg := f.config("lagged", NewFileStore(t.TempDir()))
	inner := cfg.Reducer
	cfg.Reducer = func(s aggState, ev Event) (aggState, error) {
		if ev.Position == 0 {
			time.Sleep(200 * time.Microsecond) // a slow live consumer
		}
		return inner(s, ev)
	}
	h := f.start(cfg)
	waitCaughtUp(t, h)
	for range 5 {
		f.ingest(400, 13, "test.created")
	}
	f.waitState(h)
	if st := h.Stats(); st.Recoveries == 0 {
		t.Fatalf("stats %+v: no lag was recovered from", st)
	}
}

func TestServerErrorsDuringAck(t *testing.T) {
	f := newFixture(t)
	f.ingest(1000, 10, "test.created")
	f.srv.Inject(coretest.Core, "ackConsumer", 6, coretest.Fault{Status: 503})
	h := f.start(f.config("ack-5xx", NewFileStore(t.TempDir())))
	waitCaughtUp(t, h)
	f.waitState(h)
	f.srv.Inject(coretest.Core, "ackConsumer", 4, coretest.Fault{Status: 500})
	f.ingest(500, 10, "test.updated")
	f.waitState(h)
	if err := f.lastErr(); err == nil {
		t.Fatal("OnError saw no error after failed acknowledgements")
	}
	stop(t, h)
	if c := f.cursor("ack-5xx"); c != 1500 {
		t.Fatalf("cursor %d after Stop, want 1500", c)
	}
	// A restart applies nothing twice.
	h2 := f.start(f.config("ack-5xx", h.w.cfg.Store))
	waitCaughtUp(t, h2)
	f.waitState(h2)
	if st := h2.Stats(); st.Applied != 0 {
		t.Fatalf("restart applied %d events again", st.Applied)
	}
}

func TestServerErrorsDuringSnapshotSave(t *testing.T) {
	f := newFixture(t)
	store := NewCoreStore(f.c, "")
	f.ingest(1000, 10, "test.created")
	f.srv.Inject(coretest.Core, "putProjectionEntityState", 8, coretest.Fault{Status: 503})
	h := f.start(f.config("save-5xx", store))
	waitCaughtUp(t, h)
	f.waitState(h)
	f.srv.Inject(coretest.Core, "putProjectionEntityState", 5, coretest.Fault{Status: 500})
	f.ingest(500, 10, "test.updated")
	f.waitState(h)
	if err := f.lastErr(); err == nil {
		t.Fatal("OnError saw no error after failed snapshot saves")
	}
	stop(t, h)
	// Read back with a client whose circuit breaker the faults did not trip.
	snap, found, err := NewCoreStore(newSDKClient(t, f.srv.URL), "").Load(context.Background(), "save-5xx")
	if err != nil || !found || snap.Position != 1500 {
		t.Fatalf("snapshot in Core at %d (found %v, err %v), want 1500", snap.Position, found, err)
	}
	if c := f.cursor("save-5xx"); c != 1500 {
		t.Fatalf("cursor %d, want 1500", c)
	}
	h2 := f.start(f.config("save-5xx", store))
	waitCaughtUp(t, h2)
	f.waitState(h2)
}

func TestPushAndEntityState(t *testing.T) {
	f := newFixture(t)
	f.ingest(200, 4, "test.created")
	cfg := f.config("pushed", NewFileStore(t.TempDir()))
	cfg.Push = &Push[aggState]{
		Projection: "test-aggs",
		Events:     50,
		Entities: func(s aggState, touched []string) []EntityState {
			out := make([]EntityState, 0, len(touched))
			for _, id := range touched {
				out = append(out, EntityState{EntityID: id, State: s[id]})
			}
			return out
		},
	}
	h := f.start(cfg)
	waitCaughtUp(t, h)
	f.ingest(100, 4, "test.updated")
	f.waitState(h)
	stop(t, h)
	raw, found, err := f.pushedState(h.w.projName, "e-1")
	if err != nil || !found {
		t.Fatalf("EntityState = found %v, err %v", found, err)
	}
	var got agg
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if want := *f.truth.m["e-1"]; got != want {
		t.Fatalf("pushed state %+v, want %+v", got, want)
	}
	if _, found, err := f.pushedState(h.w.projName, "nobody"); err != nil || found {
		t.Fatalf("EntityState of an unknown entity: found %v, err %v", found, err)
	}
}
