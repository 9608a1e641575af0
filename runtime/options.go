package runtime

import (
	"net/http"
)

// Option configures a Client (passed to New) or one call (passed to Do, or to
// a generated method). Per-call options are applied over the client's.
type Option func(*config)

type config struct {
	httpClient *http.Client
	header     http.Header
	auth       []func(*http.Request) error
	userAgent  string
}

func defaultConfig() config {
	return config{httpClient: http.DefaultClient, userAgent: "allsource-go"}
}

// WithHTTPClient sends requests through hc instead of http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.httpClient = hc }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) { c.userAgent = ua }
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

// WithBearerToken authenticates with "Authorization: Bearer <token>".
func WithBearerToken(token string) Option {
	return withAuth(func(r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
}

// WithAPIKeyHeader authenticates by sending key in the named header (for
// example "X-API-Key").
func WithAPIKeyHeader(header, key string) Option {
	return withAuth(func(r *http.Request) error {
		r.Header.Set(header, key)
		return nil
	})
}

// WithAPIKeyQuery authenticates by sending key as the named query parameter.
func WithAPIKeyQuery(param, key string) Option {
	return withAuth(func(r *http.Request) error {
		q := r.URL.Query()
		q.Set(param, key)
		r.URL.RawQuery = q.Encode()
		return nil
	})
}

// WithBasicAuth authenticates with HTTP basic authentication.
func WithBasicAuth(user, password string) Option {
	return withAuth(func(r *http.Request) error {
		r.SetBasicAuth(user, password)
		return nil
	})
}

func withAuth(f func(*http.Request) error) Option {
	return func(c *config) {
		c.auth = append(c.auth[:len(c.auth):len(c.auth)], f)
	}
}
