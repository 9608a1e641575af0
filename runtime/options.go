package runtime

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Client (passed to New) or one call (passed to Do, or to
// a generated method). Per-call options are applied over the client's: a
// per-call credential replaces the client's, a per-call retry policy
// replaces the client's, per-call headers and middleware are added to the
// client's.
type Option func(*config)

// RoundTripFunc sends one HTTP request and returns its response: one
// attempt of a call.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// Middleware wraps each attempt of a call (retries included). It sees the
// request with its credentials set, so it must not log header values, and
// it must replace header values with Header.Set rather than modify their
// slices in place (the client shares them between requests).
type Middleware func(next RoundTripFunc) RoundTripFunc

// TokenSource supplies the bearer token for each attempt, for credentials
// that change (short-lived JWTs, rotated keys). Token is called once per
// attempt and must be safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context) (string, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// DefaultMaxResponseBytes bounds the body of a response read into memory
// (see WithMaxResponseBytes).
const DefaultMaxResponseBytes = 64 << 20

// ErrResponseTooLarge is wrapped by the *ProtocolError of a response body
// larger than WithMaxResponseBytes allows.
var ErrResponseTooLarge = errors.New("runtime: response too large")

type config struct {
	httpClient     *http.Client // as passed to WithHTTPClient; nil for the client's own
	header         http.Header
	userAgent      string
	auth           *authScheme
	retry          RetryPolicy
	breaker        *CircuitBreaker
	breakerSet     bool
	timeout        time.Duration
	attemptTimeout time.Duration
	middleware     []Middleware
	logger         *slog.Logger
	maxBodyBytes   int64
	responseInto   **http.Response
	retrySafe      bool
	err            error

	// wait sleeps between attempts; tests replace it to observe the
	// requested delays without sleeping.
	wait func(ctx context.Context, d time.Duration) error

	// Derived by (*Client).finalize from the fields above.
	dirty  bool         // a field that derived state depends on changed
	hc     *http.Client // httpClient (or the client's own) with the redirect policy
	send   RoundTripFunc
	uaHdr  []string
	accept []string
}

func defaultConfig() config {
	return config{
		retry:        DefaultRetryPolicy(),
		maxBodyBytes: DefaultMaxResponseBytes,
		wait:         Sleep,
		dirty:        true,
	}
}

// WithHTTPClient sends requests through hc instead of the client's own
// *http.Client (which has a tuned connection pool and TLS verification on).
// hc's Transport, Jar and Timeout are used as they are; its redirect policy
// runs after the runtime's, which removes credentials from a redirect to
// another host.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc == nil {
			c.err = errors.New("runtime: WithHTTPClient: nil *http.Client")
			return
		}
		c.httpClient, c.dirty = hc, true
	}
}

// WithUserAgent sets the User-Agent header. Generated clients set the one
// their spec declares (x-user-agent); without any, net/http's is sent.
func WithUserAgent(ua string) Option {
	return func(c *config) { c.userAgent, c.dirty = ua, true }
}

// WithHeader adds a header sent with every request.
func WithHeader(key, value string) Option {
	return func(c *config) {
		h := c.header.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Add(key, value)
		c.header = h
	}
}

// WithAPIKey authenticates with "Authorization: Bearer <key>"; for an API
// that wants the key in a header of its own, use WithAPIKeyHeader.
func WithAPIKey(key string) Option { return WithBearerToken(key) }

// WithBearerToken authenticates with "Authorization: Bearer <token>".
func WithBearerToken(token string) Option {
	return func(c *config) {
		if token == "" {
			c.err = errors.New("runtime: empty bearer token")
			return
		}
		c.setAuth(&authScheme{header: "Authorization", value: []string{"Bearer " + token}, secret: token})
	}
}

// WithTokenSource authenticates with "Authorization: Bearer <token>", asking
// ts for the token before every attempt.
func WithTokenSource(ts TokenSource) Option {
	return func(c *config) {
		if ts == nil {
			c.err = errors.New("runtime: WithTokenSource: nil TokenSource")
			return
		}
		c.setAuth(&authScheme{header: "Authorization", tokens: ts})
	}
}

// WithAPIKeyHeader authenticates by sending key in the named header (for
// example "X-API-Key").
func WithAPIKeyHeader(header, key string) Option {
	return func(c *config) {
		if header == "" || key == "" {
			c.err = errors.New("runtime: WithAPIKeyHeader: empty header name or key")
			return
		}
		c.setAuth(&authScheme{header: http.CanonicalHeaderKey(header), value: []string{key}, secret: key})
	}
}

// WithAPIKeyQuery authenticates by sending key as the named query parameter.
// The parameter's value is removed from every URL in errors and logs.
func WithAPIKeyQuery(param, key string) Option {
	return func(c *config) {
		if param == "" || key == "" {
			c.err = errors.New("runtime: WithAPIKeyQuery: empty parameter name or key")
			return
		}
		c.setAuth(&authScheme{query: param, secret: key})
	}
}

// WithBasicAuth authenticates with HTTP basic authentication.
func WithBasicAuth(user, password string) Option {
	return func(c *config) {
		v := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
		c.setAuth(&authScheme{header: "Authorization", value: []string{v}, secret: password})
	}
}

// setAuth replaces the credentials: the last credential option wins, so a
// per-call credential replaces the client's.
func (c *config) setAuth(a *authScheme) { c.auth, c.dirty = a, true }

// WithTimeout bounds a whole call, all attempts and the waits between them
// included. Zero means no bound beyond the context's.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = max(d, 0) }
}

// WithAttemptTimeout bounds each attempt, from sending the request to
// reading the last byte of the response. An attempt that times out is
// retried only when the request is safe to retry. Zero means no bound
// beyond the call's.
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *config) { c.attemptTimeout = max(d, 0) }
}

// WithRetry sets the retry policy. Zero durations and a nil Statuses take
// the defaults of DefaultRetryPolicy; MaxRetries is taken as given (0: no
// retries).
func WithRetry(p RetryPolicy) Option {
	return func(c *config) { c.retry = p.withDefaults() }
}

// WithMaxRetries sets how many times a failed attempt may be retried (0:
// never), keeping the rest of the retry policy.
func WithMaxRetries(n int) Option {
	return func(c *config) { c.retry.MaxRetries = max(n, 0) }
}

// WithCircuitBreaker sends requests through b, which may be shared by
// several clients. New creates a breaker with DefaultCircuitBreakerSettings
// when this option is not given; nil disables the breaker (per call too).
// A breaker is an object with its own state, so passing one per call never
// resets or splits the client's.
func WithCircuitBreaker(b *CircuitBreaker) Option {
	return func(c *config) { c.breaker, c.breakerSet = b, true }
}

// WithMiddleware adds middleware around each attempt. Client-wide middleware
// runs outside per-call middleware; within one list the first runs
// outermost.
func WithMiddleware(mw ...Middleware) Option {
	return func(c *config) {
		c.middleware = append(c.middleware[:len(c.middleware):len(c.middleware)], mw...)
		c.dirty = true
	}
}

// WithLogger logs each attempt (operation, method, URL without credentials,
// attempt, status, duration), each retry decision and each circuit breaker
// state change at debug level to l. Header values and bodies are never
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithMaxResponseBytes bounds the size of a response body read into memory;
// a larger 2xx body fails the call with a *ProtocolError wrapping
// ErrResponseTooLarge. Default DefaultMaxResponseBytes.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) {
		if n <= 0 {
			n = DefaultMaxResponseBytes
		}
		c.maxBodyBytes = n
	}
}

// WithRetrySafe marks the call safe to repeat after any retryable failure,
// as Request.RetrySafe does for an operation: for a request that the caller
// makes idempotent (an idempotency key, a producer sequence number the
// server deduplicates), so that a reset connection or a 5xx is retried too.
func WithRetrySafe() Option {
	return func(c *config) { c.retrySafe = true }
}

// WithResponseInto stores the last HTTP response of the call in *dst (per
// call). Its body has already been read and closed.
func WithResponseInto(dst **http.Response) Option {
	return func(c *config) { c.responseInto = dst }
}

// authScheme is the credential a client sends.
type authScheme struct {
	header string   // canonical header name, or "" for query auth
	value  []string // fixed header value; len == cap, shared read-only
	query  string   // query parameter name for query auth
	secret string   // the raw secret, removed from URLs in errors and logs
	tokens TokenSource
}

// apply sets the credential on r, which was built by the runtime: its URL
// is not shared with anything else.
func (a *authScheme) apply(ctx context.Context, r *http.Request) error {
	switch {
	case a.tokens != nil:
		tok, err := a.tokens.Token(ctx)
		if err != nil {
			return err
		}
		if tok == "" {
			return errors.New("empty token")
		}
		r.Header.Set(a.header, "Bearer "+tok)
	case a.query != "":
		q := r.URL.Query()
		q.Set(a.query, a.secret)
		r.URL.RawQuery = q.Encode()
	default:
		r.Header[a.header] = a.value
	}
	return nil
}
