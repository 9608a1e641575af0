package durable

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allsource-go/allsource/gen/durablestreams"
	"github.com/allsource-go/allsource/runtime"
)

// Client talks to one Durable Streams server. It is safe for concurrent
// use; streams and producers made from it share its connection pool.
type Client struct {
	api     *durablestreams.Client
	retry   runtime.RetryPolicy
	timeout time.Duration
	// maxChunk bounds a read response (WithMaxChunkBytes).
	maxChunk int64
	// bodies holds the bodies of acknowledged producer batches (*[]byte),
	// reused by the client's producers.
	bodies sync.Pool
	// inFlightCeiling is how many batches a producer may have in flight
	// before the server takes them out of order (0: no limit seen yet);
	// it only goes down.
	inFlightCeiling atomic.Int64
}

// maxInFlight returns the most batches a producer of c may have in flight.
func (c *Client) maxInFlight() int {
	if n := c.inFlightCeiling.Load(); n > 0 {
		return int(n)
	}
	return math.MaxInt
}

// lowerMaxInFlight lowers the in-flight ceiling to n, at least 1.
func (c *Client) lowerMaxInFlight(n int) {
	n = max(n, 1)
	for {
		cur := c.inFlightCeiling.Load()
		if cur > 0 && cur <= int64(n) || c.inFlightCeiling.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// Option configures a Client.
type Option func(*options)

type options struct {
	timeout    time.Duration
	header     http.Header
	headerFunc func(ctx context.Context) (http.Header, error)
	hc         *http.Client
	retry      runtime.RetryPolicy
	rt         []runtime.Option
	maxChunk   int64
}

// WithTimeout bounds every request that is not a live read (create,
// append, close, delete, HEAD, catch-up reads), its retries included. A
// long-poll or SSE read is bounded by its context only. Zero (the default)
// means no bound beyond the context's.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithHeader adds a header sent with every request.
func WithHeader(key, value string) Option {
	return func(o *options) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Add(key, value)
	}
}

// WithHeaderFunc sets a function called before every request, retries and
// read reconnections included, whose headers are set on it: for a token
// that is refreshed. An error it returns fails the attempt.
func WithHeaderFunc(f func(ctx context.Context) (http.Header, error)) Option {
	return func(o *options) { o.headerFunc = f }
}

// DefaultMaxChunkBytes is the largest read response a client takes
// without WithMaxChunkBytes: 1 GiB.
const DefaultMaxChunkBytes = 1 << 30

// WithMaxChunkBytes bounds the size of one read response (a chunk), or of
// one SSE event, which the client holds in memory whole: a response is
// the protocol's unit of resumption, its offset known only at its end. The
// server chooses how much one response holds; the reference server
// returns everything from the offset at once, so a stream read from the
// start comes whole. Over SSE it bounds each event and the events that
// make up one chunk. A larger response fails the read with ErrTooLarge.
// The default is DefaultMaxChunkBytes. Reads take this bound, not a
// runtime.WithMaxResponseBytes given through WithRuntimeOptions, which
// bounds the other responses.
func WithMaxChunkBytes(n int64) Option { return func(o *options) { o.maxChunk = n } }

// WithHTTPClient sends requests through hc instead of the client's own.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithRetry sets how failed requests are retried: 408, 429 (waiting at
// least its Retry-After), 500, 502, 503 and 504 and network failures, with
// jittered exponential backoff, at most MaxRetries times; then the call
// fails with a typed error. Reads retry any request; appends only when
// repeating them cannot store data twice (the server refused them, or an
// idempotent producer sends them). Reads also reconnect after a dropped
// connection, at most MaxRetries times in a row without progress. The
// default is DefaultRetry. A zero BaseDelay takes its BaseDelay, or the
// MaxDelay when that is smaller; a zero MaxDelay takes the larger of the
// BaseDelay and its MaxDelay. New refuses a negative count or delay, or a
// MaxDelay below the BaseDelay (ErrInvalidArgument).
func WithRetry(p runtime.RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithRuntimeOptions passes options to the runtime client underneath (a
// logger, middleware, a circuit breaker, ...).
func WithRuntimeOptions(opts ...runtime.Option) Option {
	return func(o *options) { o.rt = append(o.rt, opts...) }
}

// DefaultRetry is the retry policy of a client without WithRetry: 5 retries
// from 100 ms, capped at 5 s, of 408, 429, 500, 502, 503 and 504.
func DefaultRetry() runtime.RetryPolicy {
	return runtime.RetryPolicy{
		MaxRetries: 5,
		BaseDelay:  100 * time.Millisecond,
		MaxDelay:   5 * time.Second,
		Statuses:   []int{408, 429, 500, 502, 503, 504},
	}
}

// New returns a client of the server at baseURL (for example
// "http://localhost:4437"); stream paths are appended to it.
func New(baseURL string, opts ...Option) (*Client, error) {
	o := options{retry: DefaultRetry()}
	for _, opt := range opts {
		opt(&o)
	}
	bad := func(format string, a ...any) error { return invalid("new", format, a...) }
	r := &o.retry
	switch {
	case r.MaxRetries < 0:
		return nil, bad("retry MaxRetries %d is negative", r.MaxRetries)
	case r.BaseDelay < 0:
		return nil, bad("retry BaseDelay %v is negative", r.BaseDelay)
	case r.MaxDelay < 0:
		return nil, bad("retry MaxDelay %v is negative", r.MaxDelay)
	case o.timeout < 0:
		return nil, bad("timeout %v is negative", o.timeout)
	case o.maxChunk < 0:
		return nil, bad("max chunk bytes %d is negative", o.maxChunk)
	}
	if o.maxChunk == 0 {
		o.maxChunk = DefaultMaxChunkBytes
	}
	if r.BaseDelay == 0 {
		r.BaseDelay = DefaultRetry().BaseDelay
		if r.MaxDelay > 0 {
			r.BaseDelay = min(r.BaseDelay, r.MaxDelay)
		}
	}
	switch {
	case r.MaxDelay == 0:
		r.MaxDelay = max(r.BaseDelay, DefaultRetry().MaxDelay)
	case r.MaxDelay < r.BaseDelay:
		return nil, bad("retry MaxDelay %v is below BaseDelay %v", r.MaxDelay, r.BaseDelay)
	}
	rtOpts := []runtime.Option{
		runtime.WithRetry(o.retry),
		// A stream server is one resource among many: a breaker is the
		// caller's choice (WithRuntimeOptions), not a default.
		runtime.WithCircuitBreaker(nil),
	}
	if o.timeout > 0 {
		rtOpts = append(rtOpts, runtime.WithTimeout(o.timeout))
	}
	for k, vs := range o.header {
		for _, v := range vs {
			rtOpts = append(rtOpts, runtime.WithHeader(k, v))
		}
	}
	if o.hc != nil {
		rtOpts = append(rtOpts, runtime.WithHTTPClient(o.hc))
	}
	if f := o.headerFunc; f != nil {
		rtOpts = append(rtOpts, runtime.WithMiddleware(headerMiddleware(f)))
	}
	rtOpts = append(rtOpts, o.rt...)
	api, err := durablestreams.NewClient(baseURL, rtOpts...)
	if err != nil {
		return nil, fmt.Errorf("durable: %w", err)
	}
	return &Client{api: api, retry: o.retry, timeout: o.timeout, maxChunk: o.maxChunk}, nil
}

// headerMiddleware sets the headers of f on every attempt.
func headerMiddleware(f func(ctx context.Context) (http.Header, error)) runtime.Middleware {
	return func(next runtime.RoundTripFunc) runtime.RoundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			h, err := f(r.Context())
			if err != nil {
				return nil, fmt.Errorf("durable: header function: %w", err)
			}
			for k, vs := range h {
				r.Header[http.CanonicalHeaderKey(k)] = vs
			}
			return next(r)
		}
	}
}

// API returns the generated client underneath, for what this package does
// not cover.
func (c *Client) API() *durablestreams.Client { return c.api }

// Stream returns a handle on the stream at path (relative to the base URL,
// one or more segments; a leading "/" is ignored). Making a handle does no
// I/O; a malformed path fails the first call with ErrInvalidArgument.
func (c *Client) Stream(path string) *Stream {
	return &Stream{c: c, path: strings.TrimPrefix(path, "/")}
}

// liveOpts are the options of a live read: no call timeout.
var liveOpts = []runtime.Option{runtime.WithTimeout(0)}
