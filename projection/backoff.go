package projection

import (
	"time"

	"github.com/allsource-go/allsource/runtime"
)

// Default reconnection backoff bounds.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// backoff counts the attempts of a reconnection (or of a retried reducer)
// and draws each delay from runtime.Backoff: exponential from min to max,
// with equal jitter.
type backoff struct {
	min, max time.Duration
	attempt  int
}

func newBackoff(min, max time.Duration) *backoff {
	if min <= 0 {
		min = DefaultMinBackoff
	}
	if max < min {
		max = min
	}
	return &backoff{min: min, max: max}
}

// next returns the delay before the next attempt and counts the attempt.
func (b *backoff) next() time.Duration {
	b.attempt++
	return runtime.Backoff(b.attempt, b.min, b.max)
}

// reset starts over from min after a healthy connection.
func (b *backoff) reset() { b.attempt = 0 }
