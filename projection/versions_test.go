package projection

import (
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestEntityVersionsMatchMap sets random versions of entities in several
// tenants on an entityVersions and a Go map side by side, taking the
// changes now and then as a checkpoint does, and checks lookups, the
// changes, every version, and a table loaded from them.
func TestEntityVersionsMatchMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	v := newEntityVersions(0)
	want := map[string]int64{}
	changed, prev := map[string]int64{}, map[string]int64{}
	tenants := []string{"default", "acme", "t"}
	var c versionChanges
	for n := range 100_000 {
		tenant, entity := tenants[r.IntN(len(tenants))], "e-"+strconv.Itoa(r.IntN(20_000))
		key := tenant + "/" + entity
		i, h := v.find(tenant, entity)
		if got := v.get(i); got != want[key] {
			t.Fatalf("op %d: version of %s = %d, want %d", n, key, got, want[key])
		}
		ver := want[key] + 1 + int64(r.IntN(3))
		v.set(i, h, tenant, entity, ver)
		want[key], changed[key] = ver, ver
		if r.IntN(5000) == 0 || n == 99_999 {
			// The previous changes still read right, though entities were
			// added since: their keys are where they were.
			if got := c.into(nil); !maps.Equal(got, prev) {
				t.Fatalf("op %d: the previous changes hold %d versions, want %d", n, len(got), len(prev))
			}
			c.reset()
			v.changes(&c)
			v.forget()
			if got := c.into(nil); !maps.Equal(got, changed) {
				t.Fatalf("op %d: changes hold %d versions, want the %d changed", n, len(got), len(changed))
			}
			prev, changed = changed, map[string]int64{}
		}
	}
	// A key longer than a chunk of the arena gets a chunk of its own.
	long := strings.Repeat("x", 3*arenaChunk/2)
	i, h := v.find("t", long)
	v.set(i, h, "t", long, 9)
	i, h = v.find("t", "after")
	v.set(i, h, "t", "after", 10)
	want["t/"+long], want["t/after"] = 9, 10
	if i, _ := v.find("t", long); v.get(i) != 9 {
		t.Fatalf("version of a long key = %d, want 9", v.get(i))
	}
	if v.len() != len(want) || !maps.Equal(v.all(), want) {
		t.Fatalf("all: %d versions, want %d", v.len(), len(want))
	}
	loaded := newEntityVersions(len(want))
	for k, ver := range want {
		loaded.load(k, ver)
	}
	if !maps.Equal(loaded.all(), want) {
		t.Fatal("a table loaded from every version differs")
	}
	if i, _ := loaded.find("acme", "e-7"); loaded.get(i) != want["acme/e-7"] {
		t.Fatalf("loaded version of acme/e-7 = %d, want %d", loaded.get(i), want["acme/e-7"])
	}
	c.reset()
	loaded.changes(&c)
	if len(c.ents) != 0 {
		t.Fatalf("a loaded table has %d changes, want none", len(c.ents))
	}
}
