package projection

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestKeyIndexMatchesMap runs random adds and removes on a keyIndex and a
// Go map side by side.
func TestKeyIndexMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := newKeyIndex(0)
	want := map[string]int{}
	for n := range 200_000 {
		k := strconv.Itoa(r.IntN(5000))
		switch i := x.find(k); {
		case r.IntN(3) == 0:
			got := x.remove(k)
			if w, ok := want[k]; ok != (got >= 0) || ok && got != w {
				t.Fatalf("op %d: remove(%q) = %d, want %d (present %v)", n, k, got, w, ok)
			}
			delete(want, k)
		case i < 0:
			if _, ok := want[k]; ok {
				t.Fatalf("op %d: find(%q) = -1, want %d", n, k, want[k])
			}
			idx, _ := x.add(k)
			want[k] = idx
		default:
			if want[k] != i {
				t.Fatalf("op %d: find(%q) = %d, want %d", n, k, i, want[k])
			}
		}
		if x.len() != len(want) {
			t.Fatalf("op %d: len %d, want %d", n, x.len(), len(want))
		}
	}
	for k, i := range want {
		if got := x.find(k); got != i || x.key(i) != k {
			t.Fatalf("find(%q) = %d, want %d", k, got, i)
		}
	}
	if x.cap() > 5000 {
		t.Fatalf("%d indexes for at most 5000 keys: removed ones are not reused", x.cap())
	}
}
