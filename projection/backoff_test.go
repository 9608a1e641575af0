package projection

import (
	"testing"
	"time"
)

func TestBackoffGrowsCapsAndResets(t *testing.T) {
	b := newBackoff(100*time.Millisecond, 30*time.Second)
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
	seen := map[time.Duration]bool{}
	for range 20 {
		b := newBackoff(time.Second, time.Minute)
		b.attempt = 5
		seen[b.next()] = true
	}
	if len(seen) < 10 {
		t.Fatalf("20 delays took only %d distinct values: no jitter", len(seen))
	}
}

func TestBackoffDefaults(t *testing.T) {
	b := newBackoff(0, 0)
	if b.min != DefaultMinBackoff || b.max != DefaultMinBackoff {
		t.Fatalf("min %v max %v", b.min, b.max)
	}
	b = newBackoff(time.Second, time.Millisecond)
	if b.max != time.Second {
		t.Fatalf("max below min not raised: %v", b.max)
	}
}
