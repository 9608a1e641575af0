package projection

import (
	"math/rand/v2"
	"time"
)

// Default reconnection backoff bounds.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// backoff computes reconnection delays: exponential from min to max, with
// "equal jitter" (each delay is drawn uniformly from the upper half of the
// exponential step), so that many workers reconnecting at once spread out
// while each one still waits at least half the step.
type backoff struct {
	min, max time.Duration
	attempt  int
	rand     func(n int64) int64 // uniform in [0, n)
}

func newBackoff(min, max time.Duration, rnd func(n int64) int64) *backoff {
	if min <= 0 {
		min = DefaultMinBackoff
	}
	if max < min {
		max = min
	}
	if rnd == nil {
		rnd = rand.Int64N
	}
	return &backoff{min: min, max: max, rand: rnd}
}

// step returns the un-jittered delay of the current attempt.
func (b *backoff) step() time.Duration {
	d := b.min
	for i := 0; i < b.attempt && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// next returns the delay before the next attempt and counts the attempt.
func (b *backoff) next() time.Duration {
	d := b.step()
	b.attempt++
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + time.Duration(b.rand(int64(d-half)+1))
}

// reset starts over from min after a healthy connection.
func (b *backoff) reset() { b.attempt = 0 }
