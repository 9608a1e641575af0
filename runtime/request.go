package runtime

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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
	// re-sent on retry only when it implements io.Seeker.
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
}

// Client sends Requests to one base URL. It is safe for concurrent use and
// is shared by value-cheap generated clients; all of them use one connection
// pool (the configured *http.Client).
type Client struct {
	base *url.URL
	cfg  config
}

// New returns a Client for baseURL (for example "http://localhost:3900"),
// configured by opts.
func New(baseURL string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(baseURL) == "" {
		return nil, fmt.Errorf("runtime: base URL is empty")
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("runtime: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("runtime: base URL %q: scheme must be http or https", u.Redacted())
	}
	c := &Client{base: u, cfg: defaultConfig()}
	for _, o := range opts {
		o(&c.cfg)
	}
	return c, nil
}

// BaseURL returns the client's base URL.
func (c *Client) BaseURL() *url.URL { u := *c.base; return &u }

// Do sends req with the client's options, then opts, applied, and decodes a
// 2xx response body into result:
//   - nil: the body is discarded;
//   - *[]byte: the raw body;
//   - *string: the body as text;
//   - anything else: JSON-decoded.
//
// A non-2xx response is returned as an *APIError.
func (c *Client) Do(ctx context.Context, req *Request, result any, opts ...Option) error {
	cfg := c.cfg
	for _, o := range opts {
		o(&cfg)
	}
	return c.do(ctx, &cfg, req, result)
}
