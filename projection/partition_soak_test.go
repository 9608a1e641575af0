package projection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/allsource-go/allsource/coretest"
)

// TestPartitionSoak runs a projection in 3 partitions over a keyed state
// (checkpointed by deltas into a FileStore) while events are written and
// faults hit: dropped streams, 5xx answers, partitions crashed or stopped
// and restarted, alone (as separate processes) or together (sharing one
// stream). At the end the partitions together must hold the fold
// from scratch: 0 lost, 0 applied twice.
func TestPartitionSoak(t *testing.T) {
	events := 30_000
	if testing.Short() {
		events = 8000
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0x9a47))
	const entities, parts = 500, 3
	f := newFixture(t, coretest.WithStreamBuffer(256))
	store := NewFileStore(t.TempDir())
	cfg := keyedConfig(f, "psoak", store)
	cfg.CheckpointEvents = 300
	cfg.CheckpointPeriod = 30 * time.Millisecond
	cfg.Partition.Count = parts
	hs, err := StartPartitions(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var recoveries, checkpoints int64 // over every worker run
	count := func(h *Handle[*Map[agg]]) {
		st := h.Stats()
		recoveries += st.Recoveries
		checkpoints += st.Checkpoints
	}
	// restart restarts partition i alone, as a process that owns it would.
	restart := func(i int) {
		count(hs[i])
		pc := cfg
		pc.Partition.Index = i
		for range 50 {
			if hs[i], err = Start(context.Background(), f.c, pc); err == nil {
				return
			}
			time.Sleep(20 * time.Millisecond) // a fault hit registration
		}
		t.Fatalf("restart partition %d: %v", i, err)
	}
	// restartAll restarts every partition together, sharing one stream, as
	// the process that owns them all would.
	restartAll := func() {
		for _, h := range hs {
			count(h)
		}
		for range 50 {
			if hs, err = StartPartitions(context.Background(), f.c, cfg); err == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("restart partitions: %v", err)
	}
	crash := func(h *Handle[*Map[agg]]) {
		h.w.cancel() // a crash: no final checkpoint
		<-h.Done()
	}

	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		wr := rand.New(rand.NewPCG(seed, 0x77))
		for written := 0; written < events; {
			k := min(1+wr.IntN(300), events-written)
			if writeErr = f.tryIngest(k, entities, "test.soak"); writeErr != nil {
				return
			}
			written += k
			time.Sleep(time.Duration(wr.IntN(20)) * time.Millisecond)
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
		case <-time.After(time.Duration(5+rng.IntN(30)) * time.Millisecond):
		}
		switch k := rng.IntN(12); {
		case k < 2:
			f.srv.DropStreams()
			faults["drop streams"]++
		case k < 3:
			f.srv.DropStreamAfter(1 + rng.IntN(2000))
			faults["drop a stream after n frames"]++
		case k < 5:
			f.srv.Inject(coretest.Core, "ackConsumer", 1+rng.IntN(4), coretest.Fault{Status: 503})
			faults["5xx on ack"]++
		case k < 6:
			f.srv.Inject(coretest.Core, "pollConsumerEvents", 1+rng.IntN(4), coretest.Fault{Status: 500})
			faults["5xx on pending read"]++
		case k < 7:
			f.srv.Inject(coretest.Core, "streamEvents", 1+rng.IntN(2), coretest.Fault{Status: 503})
			faults["5xx on stream handshake"]++
		case k < 8:
			i := rng.IntN(parts)
			crash(hs[i])
			restart(i)
			faults["partition crashed and restarted alone"]++
		case k < 9:
			i := rng.IntN(parts)
			ctx, c := context.WithTimeout(context.Background(), 10*time.Second)
			_ = hs[i].Stop(ctx)
			c()
			restart(i)
			faults["partition stopped and restarted alone"]++
		case k < 10:
			for _, h := range hs {
				crash(h)
			}
			restartAll()
			faults["every partition crashed and restarted together"]++
		case k < 11:
			for _, h := range hs {
				ctx, c := context.WithTimeout(context.Background(), 10*time.Second)
				_ = h.Stop(ctx)
				c()
			}
			restartAll()
			faults["every partition stopped and restarted together"]++
		}
	}
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	f.srv.Reset()
	merged := func() aggState {
		out := aggState{}
		for _, h := range hs {
			for k, v := range keyedSnapshotOf(h) {
				out[k] = v
			}
		}
		return out
	}
	deadline := time.Now().Add(2 * time.Minute)
	var lost, twice int64
	var diff string
	for {
		lost, twice, diff = f.truth.compare(merged())
		if diff == "" || twice > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, h := range hs {
		stop(t, h)
		count(h)
	}
	fmt.Printf("partition soak: seed %d, %d partitions, %d events, %d lost, %d applied twice; %d checkpoints, %d recoveries from missed events; faults %v\n",
		seed, parts, f.truth.total(), lost, twice, checkpoints, recoveries, faults)
	if diff != "" {
		t.Fatalf("seed %d: lost %d, applied twice %d: %s", seed, lost, twice, diff)
	}
}
