package projection

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/runtime"
)

// keyedSnap is a keyed snapshot of consumer "c" at pos.
func keyedSnap(pos int64, delta bool, entries map[string]string, deleted ...string) Snapshot {
	s := Snapshot{Format: SnapshotFormat, Consumer: "c", Position: pos, Keyed: true, Delta: delta,
		Versions: map[string]int64{}, Entries: map[string]json.RawMessage{}, Deleted: deleted}
	for k, v := range entries {
		s.Entries[k] = json.RawMessage(v)
		s.Versions["default/"+k] = pos
	}
	return s
}

// checkEntries fails unless s is whole and holds exactly want.
func checkEntries(t *testing.T, s Snapshot, want map[string]string) {
	t.Helper()
	if s.Delta || len(s.Entries) != len(want) {
		t.Fatalf("snapshot delta %v with %d entries, want a whole one with %d: %v", s.Delta, len(s.Entries), len(want), s.Entries)
	}
	for k, v := range want {
		if string(s.Entries[k]) != v {
			t.Fatalf("entry %q = %s, want %s", k, s.Entries[k], v)
		}
	}
}

func TestFileStoreKeepsDeltasAndCompacts(t *testing.T) {
	dir := t.TempDir()
	fs := NewFileStore(dir)
	ctx := context.Background()
	if err := fs.Save(ctx, "c", keyedSnap(1, false, map[string]string{"a": "1", "b": "1"})); err != nil {
		t.Fatal(err)
	}
	if err := fs.Save(ctx, "c", keyedSnap(2, true, map[string]string{"a": "2"}, "b")); err != nil {
		t.Fatal(err)
	}
	if err := fs.Save(ctx, "c", keyedSnap(3, true, map[string]string{"c": "3"})); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fs.deltaPath("c", 2)); err != nil {
		t.Fatalf("a delta is not a file of its own: %v", err)
	}
	// A new store instance (a restarted process) reads base and deltas.
	got, found, err := NewFileStore(dir).Load(ctx, "c")
	if err != nil || !found {
		t.Fatalf("Load = %v, %v", found, err)
	}
	checkEntries(t, got, map[string]string{"a": "2", "c": "3"})
	if got.Position != 3 || got.Versions["default/a"] != 2 || got.Versions["default/b"] != 1 {
		t.Fatalf("merged position %d versions %v", got.Position, got.Versions)
	}

	// Enough deltas trigger a compaction into the base; deltas saved
	// meanwhile survive it.
	want := map[string]string{"a": "2", "c": "3"}
	for i := range maxDeltas + 10 {
		k := fmt.Sprintf("k%d", i%50)
		v := fmt.Sprint(i)
		want[k] = v
		if err := fs.Save(ctx, "c", keyedSnap(int64(4+i), true, map[string]string{k: v})); err != nil {
			t.Fatal(err)
		}
	}
	fs.Close()
	entries, _ := os.ReadDir(dir)
	if len(entries) > maxDeltas/2 {
		t.Fatalf("%d files after %d deltas: no compaction", len(entries), maxDeltas+12)
	}
	got, _, err = NewFileStore(dir).Load(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, want)
	if got.Position != int64(4+maxDeltas+9) {
		t.Fatalf("position %d after compaction", got.Position)
	}

	// A whole save replaces base and deltas.
	if err := fs.Save(ctx, "c", keyedSnap(10_000, false, map[string]string{"z": "1"})); err != nil {
		t.Fatal(err)
	}
	got, _, _ = NewFileStore(dir).Load(ctx, "c")
	checkEntries(t, got, map[string]string{"z": "1"})
}

func TestFileStoreIgnoresDeltasItsBaseIncludes(t *testing.T) {
	// A crash between a new base and the removal of the deltas it includes
	// leaves them behind: Load must not apply them again.
	dir := t.TempDir()
	fs := NewFileStore(dir)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fs.Save(ctx, "c", keyedSnap(1, false, map[string]string{"a": "1"})))
	must(fs.Save(ctx, "c", keyedSnap(2, true, map[string]string{"a": "2"})))
	stale, err := os.ReadFile(fs.deltaPath("c", 1))
	must(err)
	must(fs.Save(ctx, "c", keyedSnap(3, false, map[string]string{"b": "1"})))
	must(os.WriteFile(fs.deltaPath("c", 1), stale, 0o644))
	got, _, err := NewFileStore(dir).Load(ctx, "c")
	must(err)
	checkEntries(t, got, map[string]string{"b": "1"})
}

func TestFileStoreRefusesDeltaAfterFailedDelta(t *testing.T) {
	dir := t.TempDir()
	fs := NewFileStore(dir)
	ctx := context.Background()
	if err := fs.Save(ctx, "c", keyedSnap(1, false, map[string]string{"a": "1"})); err != nil {
		t.Fatal(err)
	}
	// A directory where the delta's file goes makes its rename fail.
	if err := os.Mkdir(fs.deltaPath("c", 1), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := fs.Save(ctx, "c", keyedSnap(2, true, map[string]string{"a": "2"})); err == nil {
		t.Fatal("Save over a directory succeeded")
	}
	if err := fs.Save(ctx, "c", keyedSnap(3, true, map[string]string{"b": "3"})); err == nil {
		t.Fatal("a delta after a failed one was accepted: Load would never read it")
	}
	if err := fs.Save(ctx, "c", keyedSnap(3, false, map[string]string{"a": "2", "b": "3"})); err != nil {
		t.Fatal(err)
	}
	got, _, err := NewFileStore(dir).Load(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, map[string]string{"a": "2", "b": "3"})
}

func TestCoreStoreWritesInChunksUnderTheBodyLimit(t *testing.T) {
	const limit = 2 << 20 // what Core accepts in a JSON body
	srv := coretest.NewTestServer(t, coretest.WithAPIKeys(testKey))
	var largest atomic.Int64
	// Requests over the limit get Core's 413, whatever the server here
	// accepts.
	measure := func(next runtime.RoundTripFunc) runtime.RoundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			if r.ContentLength > largest.Load() {
				largest.Store(r.ContentLength)
			}
			if r.ContentLength > limit {
				return &http.Response{StatusCode: http.StatusRequestEntityTooLarge, Status: "413 Payload Too Large",
					Body: http.NoBody, Header: http.Header{}, Request: r}, nil
			}
			return next(r)
		}
	}
	c, err := allsource.NewCoreClient(srv.URL, testKey, allsource.WithRuntimeOptions(runtime.WithMiddleware(measure)))
	if err != nil {
		t.Fatal(err)
	}
	store := NewCoreStore(c, "")
	ctx := context.Background()
	// About 4 MB of state: twice the limit.
	big := map[string]string{}
	for i := range 60_000 {
		big[fmt.Sprintf("entity-%06d", i)] = fmt.Sprintf(`{"symbol":"SYM%d","note":"\"quoted\"","n":%d}`, i, i)
	}
	if err := store.Save(ctx, "c", keyedSnap(1, false, big)); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, "c", keyedSnap(2, true, map[string]string{"entity-000001": "7"}, "entity-000002")); err != nil {
		t.Fatal(err)
	}
	if largest.Load() > limit {
		t.Fatalf("largest request body %d bytes, over Core's %d", largest.Load(), limit)
	}
	got, found, err := NewCoreStore(c, "").Load(ctx, "c")
	if err != nil || !found {
		t.Fatalf("Load = %v, %v", found, err)
	}
	big["entity-000001"] = "7"
	delete(big, "entity-000002")
	checkEntries(t, got, big)
	// A second whole save replaces the first.
	if err := store.Save(ctx, "c", keyedSnap(3, false, map[string]string{"x": "1"})); err != nil {
		t.Fatal(err)
	}
	got, _, err = NewCoreStore(c, "").Load(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, map[string]string{"x": "1"})
}

func TestFileStoreWholeSavesAndCompactionsInterleave(t *testing.T) {
	dir := t.TempDir()
	fs := NewFileStore(dir)
	ctx := context.Background()
	want := map[string]string{}
	pos := int64(0)
	for round := range 3 {
		// A whole save replaces everything, then deltas trigger a
		// compaction in the background while more deltas and, at the end
		// of the round, the next whole save arrive.
		pos++
		want = map[string]string{"base": fmt.Sprint(round)}
		if err := fs.Save(ctx, "c", keyedSnap(pos, false, want)); err != nil {
			t.Fatal(err)
		}
		for i := range maxDeltas + 40 {
			pos++
			k, v := fmt.Sprintf("k%d", i%97), fmt.Sprint(pos)
			want[k] = v
			if err := fs.Save(ctx, "c", keyedSnap(pos, true, map[string]string{k: v})); err != nil {
				t.Fatal(err)
			}
		}
		got, _, err := NewFileStore(dir).Load(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, got, want)
	}
	fs.Close()
	got, _, err := NewFileStore(dir).Load(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, got, want)
	if got.Position != pos {
		t.Fatalf("position %d, want %d", got.Position, pos)
	}
}

// TestCompactionWaitsForSupersededEntries checks the compaction policy:
// deltas are merged once what they supersede outweighs what is live, not
// while they only add entries.
func TestCompactionWaitsForSupersededEntries(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		name string
		st   chainState
		want bool
	}{
		{"deltas that only add entries", chainState{baseBytes: mb, deltaBytes: 40 * mb, deltas: 400, entries: 410_000, live: 410_000}, false},
		{"deltas that rewrite the same entries", chainState{baseBytes: mb, deltaBytes: 40 * mb, deltas: 400, entries: 410_000, live: 10_000}, true},
		{"too little superseded to be worth it", chainState{baseBytes: mb, deltaBytes: 8 * mb, deltas: 80, entries: 90_000, live: 10_000}, false},
		{"a whole-value state, deltas twice the base", chainState{baseBytes: 10 * mb, deltaBytes: 20 * mb, deltas: 20, entries: 1000}, true},
		{"a whole-value state, deltas under twice the base", chainState{baseBytes: 10 * mb, deltaBytes: 19 * mb, deltas: 20, entries: 1000}, false},
		{"maxDeltas deltas", chainState{baseBytes: mb, deltaBytes: mb, deltas: maxDeltas, entries: 10, live: 10}, true},
	} {
		if got := c.st.compactDue(); got != c.want {
			t.Errorf("%s: compactDue() = %v, want %v", c.name, got, c.want)
		}
	}

	// The counts follow what is saved, and survive a restart.
	dir := t.TempDir()
	fs := NewFileStore(dir)
	ctx := context.Background()
	if err := fs.Save(ctx, "c", keyedSnap(1, false, map[string]string{"a": "1", "b": "1"})); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		d := keyedSnap(int64(2+i), true, map[string]string{fmt.Sprint("n", i): "1"})
		d.Live = int64(2 * (3 + i))
		if err := fs.Save(ctx, "c", d); err != nil {
			t.Fatal(err)
		}
	}
	fs.Close()
	for i, store := range []*FileStore{fs, NewFileStore(dir)} {
		if i > 0 {
			if _, _, err := store.Load(ctx, "c"); err != nil {
				t.Fatal(err)
			}
		}
		st := store.getChain().names["c"]
		if st.entries != 4+3*2 || st.live != 10 || st.deltas != 3 {
			t.Fatalf("chain counts %d entries (%d live) in %d deltas; want 10 (10) in 3", st.entries, st.live, st.deltas)
		}
	}
}

// TestCompactionMergesAsLoadDoes checks that a compaction, which merges
// from the newest delta to the oldest and copies the base's members
// without decoding it into maps, writes the snapshot Load merges from the
// same records: keyed chains with entries set, deleted, set and deleted in
// one delta, and set again, keys that need escaping, and whole-value
// chains.
func TestCompactionMergesAsLoadDoes(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"a", "b", `q"uote`, "é", "tab\t", "asset-1", "asset-2", "asset-3", "x/y", "long-" + strings.Repeat("k", 40)}
	for round := range 40 {
		keyed := round%5 != 4
		fs := NewFileStore(t.TempDir())
		c := fs.getChain()
		pos := int64(1)
		snap := func(delta bool) Snapshot {
			s := Snapshot{Format: SnapshotFormat, Consumer: "c", EventTypes: []string{"t"}, Position: pos, Applied: pos * 3,
				SavedAt: time.Unix(pos, 0).UTC(), Delta: delta, Keyed: keyed, Versions: map[string]int64{}}
			for range rng.IntN(6) {
				s.Versions["default/"+keys[rng.IntN(len(keys))]] = rng.Int64N(100)
			}
			if !keyed {
				s.State = json.RawMessage(fmt.Sprintf(`{"total":%d}`, pos))
				return s
			}
			s.Entries = map[string]json.RawMessage{}
			for range rng.IntN(5) {
				s.Entries[keys[rng.IntN(len(keys))]] = json.RawMessage(fmt.Sprintf(`{"n":%d}`, rng.IntN(1000)))
			}
			if delta {
				for range rng.IntN(3) {
					s.Deleted = append(s.Deleted, keys[rng.IntN(len(keys))]) // possibly one set in this delta too
				}
				s.Live = int64(len(keys))
			}
			return s
		}
		if err := fs.Save(ctx, "c", snap(false)); err != nil {
			t.Fatal(err)
		}
		deltas := 1 + rng.IntN(12)
		for range deltas {
			pos++
			if err := fs.Save(ctx, "c", snap(true)); err != nil {
				t.Fatal(err)
			}
		}
		fs.Close() // no compaction runs: the deltas are far under the thresholds
		want, _, found, err := c.read(ctx, "c", -1)
		if err != nil || !found {
			t.Fatalf("read: %v, %v", found, err)
		}
		data, got, err := c.compactRecords(ctx, "c", int64(deltas))
		if err != nil {
			t.Fatal(err)
		}
		r, err := parseRecord(data)
		if err != nil {
			t.Fatalf("round %d: the new base does not decode: %v\n%s", round, err, data)
		}
		if r.Through != int64(deltas) || r.Delta || r.Seq != 0 || r.Live != 0 || len(r.Deleted) != 0 {
			t.Fatalf("round %d: new base through %d, delta %v, seq %d, live %d, deleted %v", round, r.Through, r.Delta, r.Seq, r.Live, r.Deleted)
		}
		if got.merged != int64(len(want.Versions)+len(want.Entries)) || got.deltas != deltas {
			t.Fatalf("round %d: compacted %+v, want %d merged of %d deltas", round, got, len(want.Versions)+len(want.Entries), deltas)
		}
		s := r.Snapshot
		if s.Versions == nil {
			s.Versions = map[string]int64{}
		}
		if s.Keyed && s.Entries == nil {
			s.Entries = map[string]json.RawMessage{}
		}
		if !reflect.DeepEqual(s, want) {
			t.Fatalf("round %d: compaction wrote\n%+v\nLoad merges\n%+v", round, s, want)
		}
	}
}

// BenchmarkCompaction compacts a base of 100,000 entities (their entries
// and versions) and 13 deltas of 25,000 entities each, as a catch-up over
// 100,000 entities writes them: by merging the records into maps and
// encoding the result (what Load does, plus the encoding), and as a
// compaction does, newest delta first, copying the base's members.
func BenchmarkCompaction(b *testing.B) {
	const entities, deltas, per = 100_000, 13, 25_000
	ctx := context.Background()
	fs := NewFileStore(b.TempDir())
	c := fs.getChain()
	snap := func(pos int64, from, n int, delta bool) Snapshot {
		s := Snapshot{Format: SnapshotFormat, Consumer: "c", Position: pos, Keyed: true, Delta: delta,
			Versions: make(map[string]int64, n), Entries: make(map[string]json.RawMessage, n)}
		for i := range n {
			e := (from + i) % entities
			s.Versions[fmt.Sprint("default/asset-", e)] = pos
			s.Entries[fmt.Sprint("asset-", e)] = json.RawMessage(fmt.Sprint(pos))
		}
		if delta {
			s.Live = 2 * entities
		}
		return s
	}
	if err := fs.Save(ctx, "c", snap(1, 0, entities, false)); err != nil {
		b.Fatal(err)
	}
	for i := range deltas {
		if err := fs.Save(ctx, "c", snap(int64(2+i), i*per, per, true)); err != nil {
			b.Fatal(err)
		}
	}
	fs.Close()
	if st := c.names["c"]; st.deltas != deltas {
		b.Fatalf("%d deltas kept, want %d: a compaction ran", st.deltas, deltas)
	}
	b.Run("maps", func(b *testing.B) {
		for b.Loop() {
			s, _, _, err := c.read(ctx, "c", deltas)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := encodeRecord(&record{Snapshot: s, Through: deltas}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("newest-first", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := c.compactRecords(ctx, "c", deltas); err != nil {
				b.Fatal(err)
			}
		}
	})
}
