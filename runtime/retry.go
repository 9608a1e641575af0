package runtime

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says which failed attempts are retried and how long to wait
// before each retry.
//
// The wait before retry n (n = 1, 2, ...) is drawn with "equal jitter":
// d = min(MaxDelay, BaseDelay·2^(n-1)), wait uniformly in [d/2, d]. Equal
// jitter rather than full jitter keeps a floor under the wait, so a burst
// of clients spreads out without any of them hammering an overloaded server
// straight away. When the server sends Retry-After (seconds or an HTTP
// date) the wait is at least that long; when it asks for more than
// MaxDelay, or more than the context has left, the call stops and returns
// the response (whose RetryAfter method tells the caller how long to wait).
//
// Which failures are retried depends on Request.RetrySafe:
//   - a retry-safe request (GET, HEAD, PUT, DELETE, OPTIONS, or an operation
//     the spec marks x-retry-safe) is retried after a transport failure
//     (connection refused or reset, timeout of the attempt, truncated
//     response) and after a status in Statuses;
//   - any other request (an append, say) is retried only when the failure
//     proves the server did not act on it: the client never obtained a
//     connection (DNS failure, connection refused, TLS handshake failure:
//     no byte of the request was written), or the server refused it with
//     429 or 503 (when those are in Statuses). A reset after the request
//     was written, an attempt timeout, 502 and 504 end the call, because
//     the server may have stored the event and a retry could duplicate it.
//
// A request body is re-sent only when it can be rewound (Request.Body, a
// BodyStream held in memory, one that implements io.Seeker, or one nothing
// was read from yet).
type RetryPolicy struct {
	// MaxRetries is how many times a failed attempt may be retried: a call
	// makes at most MaxRetries+1 attempts.
	MaxRetries int
	// BaseDelay is the backoff before the first retry.
	BaseDelay time.Duration
	// MaxDelay caps every wait, Retry-After included.
	MaxDelay time.Duration
	// Statuses lists the response statuses that are retried.
	Statuses []int
}

// DefaultRetryPolicy returns the default policy: 3 retries (4 attempts),
// 200 ms base delay, 10 s cap, statuses 408, 429, 502, 503 and 504.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxRetries: 3,
		BaseDelay:  200 * time.Millisecond,
		MaxDelay:   10 * time.Second,
		Statuses:   []int{http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
	}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	p.MaxRetries = max(p.MaxRetries, 0)
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.Statuses == nil {
		p.Statuses = d.Statuses
	} else {
		p.Statuses = slices.Clone(p.Statuses)
	}
	return p
}

// retriesStatus reports whether the policy retries status.
func (p *RetryPolicy) retriesStatus(status int) bool {
	return slices.Contains(p.Statuses, status)
}

// backoff returns the jittered wait before retry n (n >= 1).
func (p *RetryPolicy) backoff(n int) time.Duration { return Backoff(n, p.BaseDelay, p.MaxDelay) }

// Backoff returns the wait before attempt n (n >= 1) of an exponential
// backoff from base, capped at max, with "equal jitter": a uniform draw from
// the upper half of the step, so that many clients retrying at once spread
// out while each still waits at least half the step. The retries of Do and
// the SDK's stream reconnections use it.
func Backoff(n int, base, max time.Duration) time.Duration {
	d := max
	if n >= 1 && n <= 32 {
		if e := base << (n - 1); e > 0 && e < d {
			d = e
		}
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// refusedStatus reports whether status says the server refused the request
// without acting on it, so that even a non-retry-safe request may be sent
// again: 429 (rate limited before the handler ran) and 503 (a full queue,
// a gateway whose upstream is unavailable: the request was not processed).
func refusedStatus(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// parseRetryAfter parses a Retry-After value: delay seconds or an HTTP date.
// A date in the past gives zero.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Sleep waits d or until ctx is done, whichever comes first, and returns
// ctx's error in the second case. Retries and reconnection loops built on
// Backoff wait with it.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
