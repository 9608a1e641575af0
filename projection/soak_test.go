package projection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allsource-go/allsource/coretest"
)

// TestSoak runs the worker through a random, seeded schedule of faults
// while events are written, then checks that its state equals a fold from
// scratch with no event lost and none applied twice. PROJECTION_SOAK_SEED
// replays a schedule; PROJECTION_SOAK_EVENTS sets the size (default
// 100,000; 20,000 with -short).
func TestSoak(t *testing.T) {
	events := 100_000
	if testing.Short() {
		events = 20_000
	}
	if v := os.Getenv("PROJECTION_SOAK_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("PROJECTION_SOAK_EVENTS: %v", err)
		}
		events = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PROJECTION_SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PROJECTION_SOAK_SEED: %v", err)
		}
		seed = n
	}
	const entities = 2000
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	batching := rng.IntN(2) == 0
	fmt.Printf("soak: seed %d (PROJECTION_SOAK_SEED=%d replays it), %d events, %d entities, live batching %v\n",
		seed, seed, events, entities, batching)

	opts := []coretest.Option{coretest.WithStreamBuffer(256)}
	if batching {
		opts = append(opts, withBatching())
	}
	f := newFixture(t, opts...)
	store := NewCoreStore(f.c, "")
	var slow atomic.Bool
	cfg := f.config("soak", store)
	cfg.CheckpointEvents = 1000
	cfg.CheckpointPeriod = 100 * time.Millisecond
	cfg.Reducer = func(s aggState, ev Event) (aggState, error) {
		if slow.Load() && ev.Position == 0 {
			time.Sleep(50 * time.Microsecond)
		}
		return aggReducer(s, ev)
	}

	var (
		h      *Handle[aggState]
		cancel context.CancelFunc
		total  Stats // over every worker run
	)
	addStats := func() {
		st := h.Stats()
		total.Applied += st.Applied
		total.Duplicates += st.Duplicates
		total.Replayed += st.Replayed
		total.Live += st.Live
		total.Checkpoints += st.Checkpoints
		total.Connects += st.Connects
		total.Recoveries += st.Recoveries
	}
	startWorker := func() {
		var err error
		for range 50 {
			if h, err = Start(context.Background(), f.c, cfg); err == nil {
				cancel = h.w.cancel // a crash: the worker gives up at once
				return
			}
			time.Sleep(20 * time.Millisecond) // a fault hit registration
		}
		t.Fatalf("Start: %v", err)
	}
	startWorker()

	// The writer.
	var wg sync.WaitGroup
	wg.Add(1)
	writerRng := rand.New(rand.NewPCG(seed, 0x77))
	var writeErr error
	go func() {
		defer wg.Done()
		// Paced so that the worker spends much of the run live.
		for written := 0; written < events; {
			k := min(1+writerRng.IntN(400), events-written)
			if writeErr = f.tryIngest(k, entities, "test.soak"); writeErr != nil {
				return
			}
			written += k
			time.Sleep(time.Duration(writerRng.IntN(40)) * time.Millisecond)
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	faults := map[string]int{}
	for running := true; running; {
		select {
		case <-done:
			running = false
			continue
		case <-time.After(time.Duration(5+rng.IntN(40)) * time.Millisecond):
		}
		switch k := rng.IntN(20); {
		case k < 2:
			f.srv.DropStreams()
			faults["drop stream"]++
		case k < 3:
			f.srv.DropStreamAfter(1 + rng.IntN(3000))
			faults["drop stream after n frames"]++
		case k < 5:
			f.srv.Inject(coretest.Core, "ackConsumer", 1+rng.IntN(5), coretest.Fault{Status: []int{500, 503}[rng.IntN(2)]})
			faults["5xx on ack"]++
		case k < 7:
			f.srv.Inject(coretest.Core, "putProjectionEntityState", 1+rng.IntN(5), coretest.Fault{Status: []int{500, 503}[rng.IntN(2)]})
			faults["5xx on snapshot save"]++
		case k < 9:
			f.srv.Inject(coretest.Core, "pollConsumerEvents", 1+rng.IntN(5), coretest.Fault{Status: 500})
			faults["5xx on pending read"]++
		case k < 10:
			f.srv.Inject(coretest.Core, "streamEvents", 1+rng.IntN(3), coretest.Fault{Status: 503})
			faults["5xx on stream handshake"]++
		case k < 11:
			// A slow spell: the live stream overflows and lags.
			slow.Store(true)
			spell := time.Duration(20+rng.IntN(100)) * time.Millisecond
			time.AfterFunc(spell, func() { slow.Store(false) })
			faults["slow reducer spell (lag)"]++
		case k < 12:
			ctx, c := context.WithTimeout(context.Background(), 10*time.Second)
			err := h.Stop(ctx)
			c()
			cancel()
			if err != nil {
				t.Logf("stop: %v", err)
			}
			addStats()
			startWorker()
			faults["clean restart"]++
		case k < 13:
			cancel()
			<-h.Done()
			addStats()
			startWorker()
			faults["crash and restart"]++
		default:
			// A quiet spell.
		}
	}
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	slow.Store(false)
	f.srv.Reset()
	// Catching up can take a while under the race detector.
	f.waitStateFor(h, 5*time.Minute)

	// A last restart from the snapshot must give the same state.
	stop(t, h)
	cancel()
	addStats()
	startWorker()
	defer cancel()
	waitCaughtUp(t, h)
	f.waitStateFor(h, 5*time.Minute)
	var lost, twice int64
	var diff string
	h.Read(func(s aggState) { lost, twice, diff = f.truth.compare(s) })
	stop(t, h)
	addStats()
	fmt.Printf("soak: seed %d: %d events, %d lost, %d applied twice\n", seed, f.truth.total(), lost, twice)
	fmt.Printf("soak: faults %v\n", faults)
	fmt.Printf("soak: over all worker runs: %d replay frames, %d live events, %d duplicates skipped, %d reductions, %d connections, %d recoveries from missed events, %d checkpoints\n",
		total.Replayed, total.Live, total.Duplicates, total.Applied, total.Connects, total.Recoveries, total.Checkpoints)
	if lost != 0 || twice != 0 || diff != "" {
		t.Fatalf("seed %d: lost %d, applied twice %d: %s", seed, lost, twice, diff)
	}
}
