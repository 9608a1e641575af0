package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/allsource-go/allsource/allsource"
)

// Partition makes a worker one of Count partitions of a projection split
// by entity: it applies the events of the entities whose hash (FNV-1a of
// "tenant/entity") modulo Count is Index, in order, and skips the others.
// Each partition is a worker of its own, with its own durable consumer
// (Name + ".p<Index>of<Count>"), state and snapshots, so partitions run in
// parallel on the cores of one process (StartPartitions) or as separate
// processes on separate machines, each starting the partitions it owns.
//
// A change of Count would move entities between partitions, whose states
// and versions do not follow: a partition refuses to start, with
// ErrPartitionsChanged, when the projection was folded with another Count.
// Rebuild it under a new Name (see Rebuild).
type Partition struct {
	// Index is the partition, from 0 to Count-1.
	Index int
	// Count is the number of partitions; 0 or 1 means none.
	Count int
}

// ErrPartitionsChanged is matched by the error Start returns when the
// projection was folded with another number of partitions.
var ErrPartitionsChanged = errors.New("projection: the number of partitions changed")

func (p Partition) owns(tenant, entity string) bool {
	return partitionOf(tenant, entity, p.Count) == p.Index
}

// partitionOf returns the partition of an entity among count: FNV-1a of
// "tenant/entity", modulo count.
func partitionOf(tenant, entity string, count int) int {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for i := 0; i < len(tenant); i++ {
		h = (h ^ uint32(tenant[i])) * prime
	}
	h = (h ^ '/') * prime
	for i := 0; i < len(entity); i++ {
		h = (h ^ uint32(entity[i])) * prime
	}
	return int(h % uint32(count))
}

// consumer returns the durable consumer name of the partition of name.
func (p Partition) consumer(name string) string {
	if p.Count <= 1 {
		return name
	}
	return name + ".p" + strconv.Itoa(p.Index) + "of" + strconv.Itoa(p.Count)
}

// layoutName is the name under which a projection's number of partitions
// is kept in its snapshot store.
func layoutName(name string) string { return name + ".partitions" }

// layoutStore is a SnapshotStore that records a projection's number of
// partitions itself (the database mode's, in a table).
type layoutStore interface {
	// layout returns the number recorded for the projection name.
	layout(ctx context.Context, name string) (count int, found bool, err error)
	// setLayout records count for name unless a number is recorded
	// already, and returns the number recorded.
	setLayout(ctx context.Context, name string, count int) (int, error)
}

// checkLayout records the projection's number of partitions in the store
// on first use, and refuses another one afterwards.
func checkLayout(ctx context.Context, store SnapshotStore, name string, count int) error {
	count = max(count, 1)
	changed := func(got int) error {
		return fmt.Errorf("%w: projection %q was folded with %d partitions, the config names %d; rebuild it under a new name",
			ErrPartitionsChanged, name, got, count)
	}
	got, found, err := readLayout(ctx, store, name)
	if err != nil {
		return fmt.Errorf("projection: read the partitions of %q: %w", name, err)
	}
	if found {
		if got != count {
			return changed(got)
		}
		return nil
	}
	if count == 1 {
		return nil // an unpartitioned projection leaves no record
	}
	// A projection folded whole before has its snapshot under name.
	if _, whole, err := store.Load(ctx, name); err != nil {
		return fmt.Errorf("projection: read the snapshot of %q: %w", name, err)
	} else if whole {
		return fmt.Errorf("%w: projection %q was folded whole, the config names %d partitions; rebuild it under a new name",
			ErrPartitionsChanged, name, count)
	}
	if ls, ok := store.(layoutStore); ok {
		got, err := ls.setLayout(ctx, name, count)
		if err != nil {
			return fmt.Errorf("projection: record the partitions of %q: %w", name, err)
		}
		if got != count {
			return changed(got) // another process recorded another number
		}
		return nil
	}
	key := layoutName(name)
	layout := Snapshot{Format: SnapshotFormat, Consumer: key, Versions: map[string]int64{},
		State: json.RawMessage(`{"partitions":` + strconv.Itoa(count) + `}`)}
	if err := store.Save(ctx, key, layout); err != nil {
		return fmt.Errorf("projection: record the partitions of %q: %w", name, err)
	}
	return nil
}

// readLayout returns the number of partitions recorded for name.
func readLayout(ctx context.Context, store SnapshotStore, name string) (int, bool, error) {
	if ls, ok := store.(layoutStore); ok {
		return ls.layout(ctx, name)
	}
	s, found, err := store.Load(ctx, layoutName(name))
	if err != nil || !found {
		return 0, false, err
	}
	var layout struct {
		Partitions int `json:"partitions"`
	}
	if err := json.Unmarshal(s.State, &layout); err != nil {
		return 0, false, err
	}
	return layout.Partitions, true, nil
}

// StartPartitions starts the partitions of cfg's projection given by
// indexes (all cfg.Partition.Count of them when none), each a worker with
// its own consumer, state and snapshots, applying its events on its own
// goroutine. The partitions started together share one stream connection:
// it is read and decoded once, and each event goes to its partition's
// worker. A process that owns some partitions starts those; other
// processes start the rest. On an error it stops the partitions it
// started.
func StartPartitions[S any](ctx context.Context, c allsource.CoreClient, cfg Config[S], indexes ...int) ([]*Handle[S], error) {
	if c.API() == nil {
		return nil, errors.New("projection: zero CoreClient (use allsource.NewCoreClient)")
	}
	return startPartitions(ctx, &coreClient{c: c}, cfg, nil, indexes...)
}

// startPartitions starts partitions; prepare, when set, makes the config
// and setup of each (the database mode gives each its own store).
func startPartitions[S any](ctx context.Context, api coreAPI, cfg Config[S],
	prepare func(Config[S]) (Config[S], func(*worker[S])), indexes ...int) ([]*Handle[S], error) {
	n := cfg.Partition.Count
	if n < 2 {
		return nil, fmt.Errorf("%w: Partition.Count is %d; StartPartitions needs 2 or more", ErrInvalidConfig, n)
	}
	if len(indexes) == 0 {
		for i := range n {
			indexes = append(indexes, i)
		}
	}
	seen := make(map[int]bool, len(indexes))
	for _, i := range indexes {
		if seen[i] {
			return nil, fmt.Errorf("%w: partition %d is named twice", ErrInvalidConfig, i)
		}
		seen[i] = true
	}
	var g *group
	if len(indexes) > 1 {
		g = newGroup(api, streamFilters(cfg.EventTypes), n)
		defer g.seal()
	}
	var hs []*Handle[S]
	for _, i := range indexes {
		pc := cfg
		pc.Partition = Partition{Index: i, Count: n}
		var setup func(*worker[S])
		if prepare != nil {
			pc, setup = prepare(pc)
		}
		var m *member
		if g != nil {
			m = g.add(i, pc.Partition.consumer(cfg.Name))
			prev := setup
			setup = func(w *worker[S]) {
				if prev != nil {
					prev(w)
				}
				w.group, w.member = g, m
			}
		}
		h, err := startWith(ctx, api, pc, setup)
		if err != nil {
			if m != nil {
				g.leave(m)
			}
			for _, h := range hs {
				_ = h.Stop(ctx)
			}
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}
