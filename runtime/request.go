package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Request is one call of an API operation, built by generated code and sent
// by Client.Do. Path parameters are already substituted and escaped.
type Request struct {
	// OperationID names the operation in errors and logs.
	OperationID string
	// Method is the HTTP method.
	Method string
	// Path is the request path relative to the client's base URL.
	Path string
	// Query holds the encoded query parameters; nil for none.
	Query url.Values
	// Header holds operation headers (header parameters); nil for none.
	Header http.Header
	// Body is an encoded request body; it can always be re-sent on retry.
	Body []byte
	// BodyStream is a streamed request body, used when Body is nil. It is
	// re-sent on retry only when it implements io.Seeker (or when nothing
	// was read from it yet). A *bytes.Buffer, and a *bytes.Reader or
	// *strings.Reader of at most 64 KiB, is taken whole when the call
	// starts (a buffer's bytes without a copy; they must not change until
	// the call returns) and sent like Body, retries included.
	BodyStream io.Reader
	// ContentType is the Content-Type of the body.
	ContentType string
	// Accept is the Accept header; empty means application/json.
	Accept string
	// RetrySafe reports whether the operation may be retried after any
	// retryable failure: the method is idempotent, or the spec marks the
	// operation safe to retry. When false, the request is retried only when
	// the failure proves the server never processed it.
	RetrySafe bool
	// ErrorBody returns a new value to decode the body of a non-2xx response
	// with the given status into (the documented error schema), or nil when
	// the status has none. The decoded value lands in APIError.Detail.
	ErrorBody func(status int) any
	// ErrorCodes are the error codes the operation's API declares: an
	// *APIError whose body carries one of them matches the status class
	// sentinel the code says (see ErrorCode).
	ErrorCodes []*ErrorCode
	// Response, when set, is called with the status and header of a 2xx
	// response before its body is decoded. It returns the value to decode
	// the body into, in place of Do's result (nil discards the body), or an
	// error (a missing or malformed documented header), which fails the call
	// with a *ProtocolError.
	Response func(status int, header http.Header) (any, error)
}

// Client sends Requests to one base URL. It is safe for concurrent use and
// is shared by value-cheap generated clients; all of them use one connection
// pool (the configured *http.Client) and one circuit breaker. A Client must
// not be copied; share the pointer.
type Client struct {
	base *url.URL
	own  *http.Client // the client's own *http.Client, used unless WithHTTPClient
	cfg  config
	bufs sync.Pool // *bytes.Buffer for response bodies
}

// New returns a Client for baseURL (for example "http://localhost:3900"),
// configured by opts.
func New(baseURL string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(baseURL) == "" {
		return nil, errors.New("runtime: base URL is empty")
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("runtime: base URL: %w", redactParseError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("runtime: base URL %q: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("runtime: base URL %q: no host", u.Redacted())
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	c := &Client{base: u, cfg: defaultConfig()}
	for _, o := range opts {
		o(&c.cfg)
	}
	if c.cfg.err != nil {
		return nil, c.cfg.err
	}
	if c.cfg.httpClient == nil {
		c.own = newHTTPClient()
	}
	if !c.cfg.breakerSet {
		c.cfg.breaker = NewCircuitBreaker(CircuitBreakerSettings{OnStateChange: logStateChange(c.cfg.logger)})
	}
	c.finalize(&c.cfg)
	return c, nil
}

// BaseURL returns the client's base URL.
func (c *Client) BaseURL() *url.URL { u := *c.base; return &u }

// CircuitBreaker returns the client's circuit breaker, or nil when it has
// none.
func (c *Client) CircuitBreaker() *CircuitBreaker { return c.cfg.breaker }

// String describes the client without its credentials.
func (c *Client) String() string { return "runtime.Client(" + c.base.Redacted() + ")" }

// GoString describes the client without its credentials.
func (c *Client) GoString() string { return c.String() }

// LogValue describes the client to log/slog without its credentials.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Do sends req with the client's options, then opts, applied, and decodes a
// 2xx response body into result:
//   - nil: the body is discarded;
//   - *[]byte: the raw body;
//   - *string: the body as text;
//   - anything else: JSON-decoded.
//
// A non-2xx response is returned as an *APIError; a 2xx body that cannot be
// read or decoded as a *ProtocolError; a call refused by the circuit breaker
// as a *CircuitOpenError. Transport failures are returned wrapped (errors.Is
// and errors.As reach the underlying *url.Error, net.Error or context error).
func (c *Client) Do(ctx context.Context, req *Request, result any, opts ...Option) error {
	cfg := &c.cfg
	if len(opts) > 0 {
		cp := c.cfg
		cp.dirty = false
		for _, o := range opts {
			o(&cp)
		}
		if cp.err != nil {
			return cp.err
		}
		if cp.dirty {
			c.finalize(&cp)
		}
		cfg = &cp
	}
	return c.do(ctx, cfg, req, result)
}

// finalize computes the state derived from cfg's fields: the redirect-safe
// *http.Client, the middleware chain and the shared header values.
func (c *Client) finalize(cfg *config) {
	hc := cfg.httpClient
	if hc == nil {
		hc = c.own
	}
	wrapped := &http.Client{
		Transport:     hc.Transport,
		Jar:           hc.Jar,
		Timeout:       hc.Timeout,
		CheckRedirect: redirectPolicy(cfg.auth, hc.CheckRedirect),
	}
	cfg.hc = wrapped
	send := RoundTripFunc(wrapped.Do)
	for i := len(cfg.middleware) - 1; i >= 0; i-- {
		send = cfg.middleware[i](send)
	}
	cfg.send = send
	cfg.uaHdr = nil
	if cfg.userAgent != "" {
		cfg.uaHdr = []string{cfg.userAgent}
	}
	cfg.accept = []string{"application/json"}
	cfg.dirty = false
}

// logStateChange returns a breaker callback that logs state changes, or nil.
func logStateChange(l *slog.Logger) func(from, to CircuitState) {
	if l == nil {
		return nil
	}
	return func(from, to CircuitState) {
		l.LogAttrs(context.Background(), slog.LevelDebug, "runtime: circuit breaker state change",
			slog.String("from", from.String()), slog.String("to", to.String()))
	}
}

// redactParseError removes the URL from a *url.Error returned by url.Parse,
// since the URL may carry user info.
func redactParseError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
