package runtime

import (
	"context"
	"fmt"
	"net/http"
)

// Authorize sets the client's extra headers, User-Agent and credentials on
// r, a request sent by other means than Do, such as a WebSocket handshake.
// The credentials go into r's headers (or its URL, for a query-parameter
// key); never log them.
func (c *Client) Authorize(ctx context.Context, r *http.Request) error {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	for k, vs := range c.cfg.header {
		r.Header[k] = append([]string(nil), vs...)
	}
	if c.cfg.userAgent != "" {
		r.Header.Set("User-Agent", c.cfg.userAgent)
	}
	if c.cfg.auth != nil {
		if err := c.cfg.auth.apply(ctx, r); err != nil {
			return fmt.Errorf("runtime: credentials: %w", err)
		}
		// apply may share the configured header slice; give r its own.
		if h := c.cfg.auth.header; h != "" {
			r.Header[h] = append([]string(nil), r.Header[h]...)
		}
	}
	return nil
}

// HTTPClient returns the *http.Client the client sends requests through:
// the one passed with WithHTTPClient, or the client's own pooled one, with
// the runtime's redirect policy (credentials removed on a redirect to another
// origin). Use it for connections made outside Do (a WebSocket, say) so that
// they share the connection pool, TLS settings and redirect safety.
func (c *Client) HTTPClient() *http.Client { return c.cfg.hc }
