package projection

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestMapChangesFollowAGoMap sets and deletes keys of a Map at random, with
// a checkpoint (changes) now and then, and checks that the base plus the
// deltas, merged as a store merges them, always equal the Map's contents,
// and that the Map equals a Go map given the same operations.
func TestMapChangesFollowAGoMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m := NewMap[int]()
	want := map[string]int{}
	merged := map[string]json.RawMessage{}
	for round := range 200 {
		for range r.IntN(300) {
			k := "k" + strconv.Itoa(r.IntN(400))
			if r.IntN(4) == 0 {
				m.Delete(k)
				delete(want, k)
				continue
			}
			v := r.IntN(1000)
			m.Set(k, v)
			want[k] = v
		}
		all := round%50 == 0
		var c entryChanges
		if err := m.changes(all, &c); err != nil {
			t.Fatal(err)
		}
		set, deleted := c.into(nil), c.deleted
		if all {
			clear(merged)
			if len(deleted) != 0 {
				t.Fatalf("round %d: a whole snapshot lists deleted keys %q", round, deleted)
			}
		}
		maps.Copy(merged, set)
		for _, k := range deleted {
			if _, ok := set[k]; ok {
				t.Fatalf("round %d: key %q is both set and deleted", round, k)
			}
			delete(merged, k)
		}
		got := map[string]int{}
		for k, raw := range merged {
			var v int
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			got[k] = v
		}
		if !maps.Equal(got, want) {
			t.Fatalf("round %d: merged checkpoints hold %d keys, want %d", round, len(got), len(want))
		}
		if m.Len() != len(want) || !maps.Equal(maps.Collect(m.All()), want) {
			t.Fatalf("round %d: Map holds %d keys, want %d", round, m.Len(), len(want))
		}
		for k, v := range want {
			if got, ok := m.Get(k); !ok || got != v {
				t.Fatalf("round %d: Get(%q) = %d, %v; want %d", round, k, got, ok, v)
			}
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Map[int]
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(maps.Collect(back.All()), want) {
		t.Fatal("the Map does not round-trip through encoding/json")
	}
	var c entryChanges
	if err := back.changes(false, &c); err != nil || len(c.keys)+len(c.deleted) != 0 {
		t.Fatalf("a decoded Map has changes: %v %v (%v)", c.keys, c.deleted, err)
	}
	var zero Map[int] // usable without NewMap
	zero.Set("a", 1)
	if v, ok := zero.Get("a"); !ok || v != 1 || zero.Len() != 1 {
		t.Fatal("a zero Map does not keep what is set")
	}
}

// BenchmarkCheckpointCapture measures what a checkpoint of 25,000 changed
// entities (out of 1,000,000) costs the goroutine that applies events: the
// capture of the changes, and the building of the snapshot's maps, which
// the goroutine that saves it does.
func BenchmarkCheckpointCapture(b *testing.B) {
	const entities, changed = 1_000_000, 25_000
	e := newEngine("c", countPerEntity, NewMap[int64], nil)
	for i := range entities {
		ev := Event{}
		ev.TenantID, ev.EntityID, ev.Version = "default", fmt.Sprint("asset-", i), 1
		if _, err := e.apply(&ev); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := e.snapshot(time.Now()); err != nil {
		b.Fatal(err)
	}
	touch := func(round int) {
		for i := range changed {
			ev := Event{}
			ev.TenantID, ev.EntityID, ev.Version = "default", fmt.Sprint("asset-", (round*changed+i)%entities), int64(2+round)
			if _, err := e.apply(&ev); err != nil {
				b.Fatal(err)
			}
		}
	}
	var build time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		touch(round)
		round++
		b.StartTimer()
		c, err := e.capture(time.Now())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		start := time.Now()
		_ = c.build(false)
		build += time.Since(start)
		e.recycle(c)
		b.StartTimer()
	}
	b.ReportMetric(float64(build.Nanoseconds())/float64(b.N), "build-ns/op")
}
