package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

func (c *Client) do(ctx context.Context, cfg *config, req *Request, result any) error {
	hreq, err := c.newHTTPRequest(ctx, cfg, req)
	if err != nil {
		return err
	}
	resp, err := cfg.httpClient.Do(hreq)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, redactURL(hreq), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(req, hreq, resp)
	}
	return decodeResult(req, hreq, resp, result)
}

func (c *Client) newHTTPRequest(ctx context.Context, cfg *config, req *Request) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + req.Path
	u.RawPath = ""
	if c.base.RawPath != "" || strings.Contains(req.Path, "%") {
		u.RawPath = c.base.EscapedPath() + req.Path
		if p, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = p
		}
	}
	if len(req.Query) > 0 {
		u.RawQuery = req.Query.Encode()
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	} else if req.BodyStream != nil {
		body = req.BodyStream
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", req.OperationID, err)
	}
	for k, vs := range cfg.header {
		hreq.Header[k] = vs
	}
	for k, vs := range req.Header {
		hreq.Header[k] = vs
	}
	if req.ContentType != "" && body != nil {
		hreq.Header.Set("Content-Type", req.ContentType)
	}
	accept := req.Accept
	if accept == "" {
		accept = "application/json"
	}
	hreq.Header.Set("Accept", accept)
	if cfg.userAgent != "" {
		hreq.Header.Set("User-Agent", cfg.userAgent)
	}
	for _, a := range cfg.auth {
		if err := a(hreq); err != nil {
			return nil, fmt.Errorf("%s: auth: %w", req.OperationID, err)
		}
	}
	return hreq, nil
}

func newAPIError(req *Request, hreq *http.Request, resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &APIError{
		OperationID: req.OperationID,
		Method:      req.Method,
		URL:         redactURL(hreq),
		StatusCode:  resp.StatusCode,
		Header:      resp.Header,
		Body:        body,
		RequestID:   resp.Header.Get("X-Request-Id"),
	}
	e.parseErrorBody()
	if req.ErrorBody != nil {
		if v := req.ErrorBody(resp.StatusCode); v != nil && json.Unmarshal(body, v) == nil {
			e.Detail = v
		}
	}
	return e
}

func decodeResult(req *Request, hreq *http.Request, resp *http.Response, result any) error {
	switch r := result.(type) {
	case nil:
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	case *[]byte:
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("%s %s: read body: %w", req.Method, redactURL(hreq), err)
		}
		*r = b
		return nil
	case *string:
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("%s %s: read body: %w", req.Method, redactURL(hreq), err)
		}
		*r = string(b)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(result); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", req.Method, redactURL(hreq), err)
	}
	return nil
}

// redactURL returns the request URL without user info.
func redactURL(r *http.Request) string { return r.URL.Redacted() }
