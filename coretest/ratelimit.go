package coretest

import (
	"math"
	"sync"
	"time"
)

// rateLimiter is a token bucket per tenant (reference §2.1): perMinute
// tokens are added per minute, up to burst.
type rateLimiter struct {
	perMinute int
	burst     int
	now       func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(perMinute, burst int, now func() time.Time) *rateLimiter {
	return &rateLimiter{perMinute: perMinute, burst: burst, now: now, buckets: make(map[string]*bucket)}
}

func (l *rateLimiter) enabled() bool { return l != nil && l.perMinute > 0 }

// take spends one token of tenant's bucket. It reports whether the request
// may proceed, the whole tokens left, and when refused how long until a
// token is available.
func (l *rateLimiter) take(tenant string) (ok bool, remaining int, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, found := l.buckets[tenant]
	if !found {
		b = &bucket{tokens: float64(l.burst), last: now}
		l.buckets[tenant] = b
	}
	rate := float64(l.perMinute) / float64(time.Minute) // tokens per ns
	b.tokens = math.Min(float64(l.burst), b.tokens+float64(now.Sub(b.last))*rate)
	b.last = now
	if b.tokens < 1 {
		return false, 0, time.Duration((1 - b.tokens) / rate)
	}
	b.tokens--
	return true, int(b.tokens), 0
}

// reset refills every bucket.
func (l *rateLimiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.buckets)
}
