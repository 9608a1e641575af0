package allsource

import (
	"errors"
	"iter"
	"testing"
)

// ints yields 1..n.
func ints(n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := 1; i <= n; i++ {
			if !yield(i, nil) {
				return
			}
		}
	}
}

func TestFold(t *testing.T) {
	add := func(s, v int) (int, error) { return s + v, nil }
	if sum, n, err := Fold(ints(100), 0, add); err != nil || sum != 5050 || n != 100 {
		t.Fatalf("Fold = %d, %d, %v", sum, n, err)
	}
	if sum, n, err := Fold(ints(0), 0, add); err != nil || sum != 0 || n != 0 {
		t.Fatalf("empty Fold = %d, %d, %v", sum, n, err)
	}
	_, n, err := Fold(ints(100), 0, func(s, v int) (int, error) {
		if v == 3 {
			return s, errors.New("bad item")
		}
		return s + v, nil
	})
	if err == nil || n != 2 {
		t.Fatalf("failing Fold: n=%d err=%v", n, err)
	}
}
