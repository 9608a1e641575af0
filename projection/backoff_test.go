package projection

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestBackoffGrowsCapsAndResets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := newBackoff(100*time.Millisecond, 30*time.Second, r.Int64N)
	wantSteps := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000}
	for i, step := range wantSteps {
		step *= time.Millisecond
		d := b.next()
		if d < step/2 || d > step {
			t.Fatalf("attempt %d: delay %v outside [%v, %v]", i, d, step/2, step)
		}
	}
	b.reset()
	if d := b.next(); d < 50*time.Millisecond || d > 100*time.Millisecond {
		t.Fatalf("after reset: delay %v, want within [50ms, 100ms]", d)
	}
}

func TestBackoffJitters(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[time.Duration]bool{}
	for range 20 {
		b := newBackoff(0, 0, r.Int64N)
		b.attempt = 5
		seen[b.next()] = true
	}
	if len(seen) < 10 {
		t.Fatalf("20 delays took only %d distinct values: no jitter", len(seen))
	}
}

func TestBackoffDefaults(t *testing.T) {
	b := newBackoff(0, 0, nil)
	if b.min != DefaultMinBackoff || b.max != DefaultMinBackoff {
		t.Fatalf("min %v max %v", b.min, b.max)
	}
	b = newBackoff(time.Second, time.Millisecond, nil)
	if b.max != time.Second {
		t.Fatalf("max below min not raised: %v", b.max)
	}
}
