package coretest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const testKey = "ask_testkey"

// newTestServer starts a spec-validated server that accepts testKey.
func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	return NewTestServer(t, append([]Option{WithAPIKeys(testKey)}, opts...)...)
}

// apiClient sends requests to one base URL with a bearer key.
type apiClient struct {
	t    *testing.T
	base string
	key  string
}

func coreClient(t *testing.T, s *Server) *apiClient {
	return &apiClient{t: t, base: s.URL, key: testKey}
}

func queryClient(t *testing.T, s *Server) *apiClient {
	return &apiClient{t: t, base: s.QueryURL(), key: testKey}
}

// response is a received response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// decode decodes the JSON body into v, failing the test on error.
func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// object decodes the JSON body as an object.
func (r *response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// send sends method path with body (nil, []byte or a JSON value) and the
// given header pairs; the key is sent as a bearer token unless a header
// pair overrides authorization.
func (c *apiClient) send(method, path string, body any, headers ...string) *response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// must sends the request and fails the test unless the status is want.
func (c *apiClient) must(want int, method, path string, body any, headers ...string) *response {
	c.t.Helper()
	r := c.send(method, path, body, headers...)
	if r.status != want {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	return r
}

// ev is an ingest request body.
type ev map[string]any

// ingest stores one event and returns the response object.
func (c *apiClient) ingest(eventType, entityID string, payload any, extra ...any) map[string]any {
	c.t.Helper()
	body := ev{"event_type": eventType, "entity_id": entityID, "payload": payload}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return c.must(http.StatusOK, "POST", "/api/v1/events", body).object(c.t)
}

// queryResp is QueryEventsResponse.
type queryResp struct {
	Events        []map[string]any `json:"events"`
	Count         int              `json:"count"`
	TotalCount    int              `json:"total_count"`
	HasMore       bool             `json:"has_more"`
	EntityVersion *int             `json:"entity_version"`
}

func (c *apiClient) query(params string) queryResp {
	c.t.Helper()
	var q queryResp
	c.must(http.StatusOK, "GET", "/api/v1/events/query?"+params, nil).decode(c.t, &q)
	return q
}

// entityIDs lists the entity_id of each event.
func (q queryResp) field(name string) []any {
	out := make([]any, len(q.Events))
	for i, e := range q.Events {
		out[i] = e[name]
	}
	return out
}

// violations collects spec violations reported by a server.
type violations struct {
	mu   sync.Mutex
	errs []error
}

func (v *violations) report(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, err)
}

func (v *violations) list() []error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]error(nil), v.errs...)
}
