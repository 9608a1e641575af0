package projection

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"testing"
)

func TestPartitionsSplitByEntityAndRestart(t *testing.T) {
	f := newFixture(t)
	f.ingest(3000, 64, "test.created")
	store := NewFileStore(t.TempDir())
	cfg := f.config("parts", store)
	cfg.Partition.Count = 3
	hs, err := StartPartitions(context.Background(), f.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		waitCaughtUp(t, h)
	}
	f.ingest(600, 64, "test.updated") // live
	// Together the partitions hold the fold from scratch; apart, each
	// holds only its own entities.
	merged := func() aggState {
		out := aggState{}
		for i, h := range hs {
			h.Read(func(s aggState) {
				for k, v := range s {
					if !(Partition{Index: i, Count: 3}).owns("default", k) {
						t.Errorf("partition %d holds entity %s of another", i, k)
					}
					if out[k] != nil {
						t.Errorf("entity %s in two partitions", k)
					}
					c := *v
					out[k] = &c
				}
			})
		}
		return out
	}
	eventually(t, func() bool { _, _, d := f.truth.compare(merged()); return d == "" },
		func() string { _, _, d := f.truth.compare(merged()); return d })
	for i, h := range hs {
		if st := h.Stats(); st.Applied == 0 || st.Applied == 3600 {
			t.Errorf("partition %d applied %d of 3600 events", i, st.Applied)
		}
		stop(t, h)
	}

	// Each partition runs on its own (a process owning partition 1, say),
	// and resumes from its own snapshot.
	f.ingest(300, 64, "test.updated")
	one, err := StartPartitions(context.Background(), f.c, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, one[0])
	waitCaughtUp(t, one[0])
	// The snapshot taken at replay_complete is acknowledged once saved.
	eventually(t, func() bool { return f.cursor("parts.p1of3") == 3900 },
		func() string { return fmt.Sprintf("partition 1's cursor %d, want 3900", f.cursor("parts.p1of3")) })

	// Another number of partitions, or none, is refused.
	cfg.Partition.Count = 4
	if _, err := StartPartitions(context.Background(), f.c, cfg); !errors.Is(err, ErrPartitionsChanged) {
		t.Fatalf("StartPartitions with 4 after 3 = %v, want ErrPartitionsChanged", err)
	}
	cfg.Partition = Partition{}
	if _, err := Start(context.Background(), f.c, cfg); !errors.Is(err, ErrPartitionsChanged) {
		t.Fatalf("Start unpartitioned after 3 partitions = %v, want ErrPartitionsChanged", err)
	}
}

func TestPartitionsRefuseAWholeProjection(t *testing.T) {
	f := newFixture(t)
	f.ingest(100, 5, "test.created")
	store := NewFileStore(t.TempDir())
	h := f.start(f.config("whole", store))
	waitCaughtUp(t, h)
	stop(t, h)
	cfg := f.config("whole", store)
	cfg.Partition.Count = 2
	if _, err := StartPartitions(context.Background(), f.c, cfg); !errors.Is(err, ErrPartitionsChanged) {
		t.Fatalf("partitions over a whole projection = %v, want ErrPartitionsChanged", err)
	}
	cfg.Partition = Partition{Index: 2, Count: 2}
	if _, err := Start(context.Background(), f.c, cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("partition 2 of 2 = %v, want ErrInvalidConfig", err)
	}
}

func TestPartitionOfIsFNV1a(t *testing.T) {
	for _, k := range [][2]string{{"default", "e-1"}, {"t", ""}, {"", "é"}, {"acme", "asset-123456"}} {
		h := fnv.New32a()
		h.Write([]byte(k[0] + "/" + k[1]))
		for _, n := range []int{2, 3, 7} {
			if got, want := partitionOf(k[0], k[1], n), int(h.Sum32()%uint32(n)); got != want {
				t.Errorf("partitionOf(%q, %q, %d) = %d, want %d", k[0], k[1], n, got, want)
			}
		}
	}
}

// TestPartitionsStartedTogetherShareOneStream checks that partitions
// started together read the stream once, each applying its own events and
// reaching the position of the last event replayed.
func TestPartitionsStartedTogetherShareOneStream(t *testing.T) {
	const n, entities, parts = 20_000, 700, 3
	core := &memoryCore{rec: recordReplay(n, entities)}
	cfg := Config[*Map[int64]]{Name: "shared", Reducer: countPerEntity, Store: NewFileStore(t.TempDir()), Logger: quiet}
	cfg.Partition.Count = parts
	hs, err := startPartitions(context.Background(), core, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var applied int64
	for i, h := range hs {
		waitCaughtUp(t, h)
		st := h.Stats()
		if st.Position != n || st.Applied == 0 || st.Replayed != st.Applied {
			t.Errorf("partition %d: position %d, applied %d, replayed %d; want position %d and only its own events", i, st.Position, st.Applied, st.Replayed, n)
		}
		applied += st.Applied
		h.Read(func(m *Map[int64]) {
			for k := range m.All() {
				if !(Partition{Index: i, Count: parts}).owns("default", k) {
					t.Errorf("partition %d holds entity %s of another", i, k)
				}
			}
		})
	}
	if applied != n {
		t.Errorf("the partitions applied %d events, want %d", applied, n)
	}
	core.mu.Lock()
	connects := core.connects
	core.mu.Unlock()
	if len(connects) != 1 {
		t.Errorf("%d streams opened (%q), want 1", len(connects), connects)
	}
	for _, h := range hs {
		stop(t, h)
	}
	for i := range parts {
		if c := core.cursors[Partition{Index: i, Count: parts}.consumer("shared")]; c != n {
			t.Errorf("partition %d acknowledged %d, want %d", i, c, n)
		}
	}
	if _, err := startPartitions(context.Background(), core, cfg, nil, 1, 1); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("partition 1 named twice = %v, want ErrInvalidConfig", err)
	}
}
