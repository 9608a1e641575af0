package runtime

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testKey is the credential every fault test sends; it must never show up
// in an error or a log line.
const testKey = "ask_SECRET-fault-key-7f3a9c1b"

// harness collects every error string and log line produced by the fault
// tests that use it, so that one check can grep them all for the key.
type harness struct {
	mu     sync.Mutex
	logs   bytes.Buffer
	errs   []string
	sawKey atomic.Int64 // requests that reached a server carrying the key
}

// Write implements io.Writer for the slog handler.
func (h *harness) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logs.Write(p)
}

// record keeps err's text in every form a caller might print it.
func (h *harness) record(err error) {
	if err == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%v", err))
}

// logger returns a debug logger writing into the harness.
func (h *harness) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(h, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// noteKey counts a request carrying the key in any of the ways the tests
// send it.
func (h *harness) noteKey(r *http.Request) {
	if strings.Contains(r.Header.Get("Authorization"), testKey) ||
		r.Header.Get("X-API-Key") == testKey || r.URL.Query().Get("api_key") == testKey {
		h.sawKey.Add(1)
	}
}

// waits records the delays the retry loop asks for, without sleeping.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// fastRetry is a retry policy with the default count and tiny delays.
func fastRetry() RetryPolicy {
	return RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}
}

// env is one fault test's client side: a client with the key, the
// harness's logger, fast retries and a client-side attempt counter.
type env struct {
	h        *harness
	attempts atomic.Int64
	waits    waits
}

func newEnv(h *harness) *env { return &env{h: h} }

// client returns a client for baseURL; opts are applied after the
// defaults. It records the delays it waits for in e.waits and sleeps them
// only when realWait is set.
func (e *env) client(t *testing.T, baseURL string, realWait bool, opts ...Option) *Client {
	t.Helper()
	all := []Option{
		WithAPIKey(testKey),
		WithLogger(e.h.logger()),
		WithRetry(fastRetry()),
		WithMiddleware(func(next RoundTripFunc) RoundTripFunc {
			return func(r *http.Request) (*http.Response, error) {
				e.attempts.Add(1)
				return next(r)
			}
		}),
	}
	c, err := New(baseURL, append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !realWait {
		c.cfg.wait = e.waits.wait
	}
	return c
}

// do sends req and records the error in the harness.
func (e *env) do(ctx context.Context, c *Client, req *Request, result any, opts ...Option) error {
	err := c.Do(ctx, req, result, opts...)
	e.h.record(err)
	return err
}

// counted is an httptest server that counts the requests it receives and
// notes the ones that carry the key.
type counted struct {
	*httptest.Server
	hits atomic.Int64
}

func newCounted(t *testing.T, h *harness, handler func(n int64, w http.ResponseWriter, r *http.Request)) *counted {
	t.Helper()
	s := &counted{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.noteKey(r)
		n := s.hits.Add(1)
		handler(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// resetConn hijacks the response's connection and closes it with a TCP
// reset, after the handler has read the request.
func resetConn(t *testing.T, w http.ResponseWriter) {
	t.Helper()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// resetListener accepts TCP connections and resets each one at once,
// before reading anything: a TLS client never completes its handshake, so
// no byte of any HTTP request is written. With readFirst set, it waits for
// the first byte of the request before the reset.
type resetListener struct {
	ln        net.Listener
	accepted  atomic.Int64
	done      chan struct{}
	readFirst bool
}

func newResetListener(t *testing.T, readFirst bool) *resetListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &resetListener{ln: ln, done: make(chan struct{}), readFirst: readFirst}
	go func() {
		defer close(r.done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			r.accepted.Add(1)
			if r.readFirst {
				_, _ = conn.Read(make([]byte, 1))
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-r.done })
	return r
}

// closedPort returns an address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func getReq() *Request {
	return &Request{OperationID: "getThing", Method: http.MethodGet, Path: "/api/v1/things/1", RetrySafe: true}
}

// ingestReq is a non-retry-safe POST like Core's ingest.
func ingestReq() *Request {
	return &Request{OperationID: "ingestEvent", Method: http.MethodPost, Path: "/api/v1/events",
		Body: []byte(`{"event_type":"order.placed","entity_id":"order-1","payload":{}}`), ContentType: "application/json"}
}

func wantAttempts(t *testing.T, what string, got int64, want int64) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %d, want %d", what, got, want)
	}
}
