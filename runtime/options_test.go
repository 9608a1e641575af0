package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
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

// recorder is a server that records the requests it receives.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	bods []string
}

func newRecorder(t *testing.T, handler func(n int, w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r)
		rec.bods = append(rec.bods, string(b))
		n := len(rec.reqs)
		rec.mu.Unlock()
		if handler != nil {
			handler(n, w, r)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *recorder) nth(i int) *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[i]
}

func (r *recorder) lastBody() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bods[len(r.bods)-1]
}

func (r *recorder) last() *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

func mustNew(t *testing.T, base string, opts ...Option) *Client {
	t.Helper()
	c, err := New(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCredentials(t *testing.T) {
	ctx := context.Background()
	srv := newRecorder(t, nil)
	cases := []struct {
		name  string
		opt   Option
		check func(r *http.Request) bool
	}{
		{"api-key-bearer", WithAPIKey("k1"), func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer k1" }},
		{"bearer", WithBearerToken("k2"), func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer k2" }},
		{"x-api-key", WithAPIKeyHeader("X-API-Key", "k3"), func(r *http.Request) bool {
			return r.Header.Get("X-API-Key") == "k3" && r.Header.Get("Authorization") == ""
		}},
		{"query", WithAPIKeyQuery("api_key", "k4"), func(r *http.Request) bool { return r.URL.Query().Get("api_key") == "k4" }},
		{"basic", WithBasicAuth("u", "p"), func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "u" && p == "p" }},
	}
	for _, tc := range cases {
		c := mustNew(t, srv.URL, tc.opt)
		if err := c.Do(ctx, getReq(), nil); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !tc.check(srv.last()) {
			t.Errorf("%s: server saw %v %s", tc.name, srv.last().Header, srv.last().URL)
		}
	}

	// A per-call credential replaces the client's.
	c := mustNew(t, srv.URL, WithAPIKey("client"))
	if err := c.Do(ctx, getReq(), nil, WithAPIKeyHeader("X-API-Key", "call")); err != nil {
		t.Fatal(err)
	}
	if r := srv.last(); r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "call" {
		t.Errorf("per-call credential: server saw %v", r.Header)
	}
	if err := c.Do(ctx, getReq(), nil); err != nil {
		t.Fatal(err)
	}
	if r := srv.last(); r.Header.Get("Authorization") != "Bearer client" {
		t.Errorf("the per-call credential leaked into the client: %v", r.Header)
	}

	for _, bad := range []Option{WithAPIKey(""), WithAPIKeyHeader("", "k"), WithAPIKeyQuery("p", ""), WithTokenSource(nil), WithHTTPClient(nil)} {
		if _, err := New(srv.URL, bad); err == nil {
			t.Error("New accepted an empty credential")
		}
		if err := mustNew(t, srv.URL).Do(ctx, getReq(), nil, bad); err == nil {
			t.Error("Do accepted an empty credential")
		}
	}
}

func TestTokenSourcePerAttempt(t *testing.T) {
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	})
	var calls atomic.Int64
	ts := TokenSourceFunc(func(ctx context.Context) (string, error) {
		return fmt.Sprintf("tok-%d", calls.Add(1)), nil
	})
	c := mustNew(t, srv.URL, WithTokenSource(ts), WithRetry(fastRetry()))
	if err := c.Do(context.Background(), getReq(), nil); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatalf("token source called %d times, want once per attempt (2)", calls.Load())
	}
	if a, b := srv.nth(0).Header.Get("Authorization"), srv.nth(1).Header.Get("Authorization"); a != "Bearer tok-1" || b != "Bearer tok-2" {
		t.Errorf("tokens sent: %q, %q", a, b)
	}

	// A failing token source ends the call before anything is sent.
	boom := errors.New("identity provider down")
	var attempts atomic.Int64
	c = mustNew(t, srv.URL, WithTokenSource(TokenSourceFunc(func(context.Context) (string, error) { return "", boom })),
		WithMiddleware(func(next RoundTripFunc) RoundTripFunc {
			return func(r *http.Request) (*http.Response, error) { attempts.Add(1); return next(r) }
		}))
	before := srv.count()
	err := c.Do(context.Background(), getReq(), nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the token source's", err)
	}
	if attempts.Load() != 0 || srv.count() != before {
		t.Errorf("a request was sent without credentials")
	}
}

func TestRequestShape(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "rid-1")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	c := mustNew(t, srv.URL+"/prefix/", WithAPIKey("k"), WithUserAgent("test-agent/1"), WithHeader("X-Tenant", "acme"))
	var resp *http.Response
	req := &Request{
		OperationID: "putState", Method: http.MethodPut, Path: "/api/v1/projections/a%2Fb/x%20y/state",
		Query:  map[string][]string{"tenant_id": {"t 1"}},
		Header: http.Header{"X-Op": {"v"}},
		Body:   []byte(`{"state":{}}`), ContentType: "application/json", RetrySafe: true,
	}
	var out struct{ OK bool }
	if err := c.Do(context.Background(), req, &out, WithHeader("X-Call", "c"), WithResponseInto(&resp)); err != nil {
		t.Fatal(err)
	}
	r := srv.last()
	if !out.OK {
		t.Error("result not decoded")
	}
	if r.Method != "PUT" || r.URL.EscapedPath() != "/prefix/api/v1/projections/a%2Fb/x%20y/state" || r.URL.Query().Get("tenant_id") != "t 1" {
		t.Errorf("request line: %s %s", r.Method, r.URL)
	}
	for k, want := range map[string]string{
		"User-Agent": "test-agent/1", "X-Tenant": "acme", "X-Call": "c", "X-Op": "v",
		"Accept": "application/json", "Content-Type": "application/json", "Authorization": "Bearer k",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if srv.lastBody() != `{"state":{}}` || r.ContentLength != int64(len(`{"state":{}}`)) {
		t.Errorf("body %q length %d", srv.lastBody(), r.ContentLength)
	}
	if resp == nil || resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "rid-1" {
		t.Errorf("WithResponseInto: %+v", resp)
	}
	// The per-call header did not stick to the client.
	if err := c.Do(context.Background(), getReq(), nil); err != nil {
		t.Fatal(err)
	}
	if srv.last().Header.Get("X-Call") != "" {
		t.Error("per-call header leaked into the client")
	}
}

func TestResultKinds(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/none" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_, _ = io.WriteString(w, `{"a":1}`)
	})
	c := mustNew(t, srv.URL)
	ctx := context.Background()
	var raw []byte
	var text string
	var m map[string]int
	if err := c.Do(ctx, getReq(), &raw); err != nil || string(raw) != `{"a":1}` {
		t.Errorf("[]byte: %q %v", raw, err)
	}
	if err := c.Do(ctx, getReq(), &text); err != nil || text != `{"a":1}` {
		t.Errorf("string: %q %v", text, err)
	}
	if err := c.Do(ctx, getReq(), &m); err != nil || m["a"] != 1 {
		t.Errorf("json: %v %v", m, err)
	}
	if err := c.Do(ctx, getReq(), nil); err != nil {
		t.Errorf("nil: %v", err)
	}
	req := getReq()
	req.Path = "/none"
	if err := c.Do(ctx, req, &m); err != nil {
		t.Errorf("204 into a struct: %v", err)
	}
	req = getReq()
	req.Method = http.MethodHead
	if err := c.Do(ctx, req, &m); err != nil {
		t.Errorf("HEAD into a struct: %v", err)
	}
}

func TestMiddlewareOrder(t *testing.T) {
	srv := newRecorder(t, nil)
	var mu sync.Mutex
	var order []string
	mark := func(name string) Middleware {
		return func(next RoundTripFunc) RoundTripFunc {
			return func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return next(r)
			}
		}
	}
	c := mustNew(t, srv.URL, WithMiddleware(mark("a"), mark("b")))
	if err := c.Do(context.Background(), getReq(), nil, WithMiddleware(mark("call"))); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(context.Background(), getReq(), nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ","); got != "a,b,call,a,b" {
		t.Errorf("order = %s", got)
	}
}

func TestPerCallTimeoutAndRetry(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("slow") != "" {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := mustNew(t, srv.URL, WithRetry(fastRetry()), WithCircuitBreaker(nil))
	req := getReq()
	req.Query = map[string][]string{"slow": {"1"}}
	if err := c.Do(context.Background(), req, nil, WithTimeout(30*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	n := srv.count()
	_ = c.Do(context.Background(), getReq(), nil, WithMaxRetries(0))
	if srv.count()-n != 1 {
		t.Errorf("per-call WithMaxRetries(0): %d attempts", srv.count()-n)
	}
	n = srv.count()
	_ = c.Do(context.Background(), getReq(), nil)
	if srv.count()-n != 4 {
		t.Errorf("client policy after a per-call override: %d attempts, want 4", srv.count()-n)
	}
}

func TestBreakerSharedAndPerCallDisable(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	b := NewCircuitBreaker(CircuitBreakerSettings{Threshold: 2, Cooldown: time.Minute})
	c := mustNew(t, srv.URL, WithCircuitBreaker(b), WithMaxRetries(0))
	if c.CircuitBreaker() != b {
		t.Fatal("CircuitBreaker() is not the configured breaker")
	}
	ctx := context.Background()
	// Failures made with per-call options count on the client's breaker.
	_ = c.Do(ctx, getReq(), nil, WithHeader("X-A", "1"))
	_ = c.Do(ctx, getReq(), nil, WithUserAgent("other"))
	if b.State() != CircuitOpen {
		t.Fatalf("state = %v, want open", b.State())
	}
	if err := c.Do(ctx, getReq(), nil); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("err = %v, want circuit open", err)
	}
	// Another client given the same breaker shares its state.
	other := mustNew(t, srv.URL, WithCircuitBreaker(b))
	if err := other.Do(ctx, getReq(), nil); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("shared breaker: err = %v", err)
	}
	// Per call, the breaker can be bypassed.
	n := srv.count()
	if err := c.Do(ctx, getReq(), nil, WithCircuitBreaker(nil)); errors.Is(err, ErrCircuitOpen) || srv.count() != n+1 {
		t.Fatalf("bypass: err = %v", err)
	}
	// New gives every client a default breaker of its own.
	d := mustNew(t, srv.URL)
	if d.CircuitBreaker() == nil || d.CircuitBreaker() == b || d.CircuitBreaker().State() != CircuitClosed {
		t.Error("default breaker")
	}
}

func TestRetryStopsWhenBreakerOpensMidCall(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	b := NewCircuitBreaker(CircuitBreakerSettings{Threshold: 2, Cooldown: time.Minute})
	c := mustNew(t, srv.URL, WithCircuitBreaker(b), WithRetry(fastRetry()))
	err := c.Do(context.Background(), getReq(), nil)
	var open *CircuitOpenError
	var ae *APIError
	if !errors.As(err, &open) || !errors.As(err, &ae) || ae.StatusCode != http.StatusBadGateway {
		t.Fatalf("err = %v, want circuit open carrying the last 502", err)
	}
	if srv.count() != 2 {
		t.Errorf("%d attempts, want 2 (the breaker's threshold)", srv.count())
	}
}

func TestNewValidation(t *testing.T) {
	for _, bad := range []string{"", "  ", "ftp://h", "http://", "://x", "localhost:3900"} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%q) succeeded", bad)
		}
	}
	c := mustNew(t, "http://user:pw@localhost:3900/", WithAPIKey("sekrit-key"))
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "sekrit-key") || strings.Contains(s, "pw") {
			t.Errorf("client description leaks a secret: %s", s)
		}
	}
	if got := c.BaseURL().String(); got != "http://user:pw@localhost:3900" {
		t.Errorf("BaseURL = %s", got)
	}
}

func TestTLSVerification(t *testing.T) {
	var handshakes atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{}`) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			handshakes.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	// The runtime's own client verifies certificates: the test server's
	// self-signed one is refused, and a refused handshake is not retried
	// into success.
	c := mustNew(t, srv.URL, WithRetry(fastRetry()))
	if err := c.Do(context.Background(), getReq(), nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v, want a certificate error", err)
	}
	if n := handshakes.Load(); n != 1 {
		t.Errorf("%d connections, want 1: a certificate error is not retried", n)
	}
	// A caller's own client decides for itself.
	c = mustNew(t, srv.URL, WithHTTPClient(srv.Client()))
	if err := c.Do(context.Background(), getReq(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n%7 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"n":1}`)
	})
	c := mustNew(t, srv.URL, WithAPIKey("k"), WithRetry(fastRetry()))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			var out struct{ N int }
			var opts []Option
			if i%2 == 0 {
				opts = append(opts, WithHeader("X-I", "even"), WithMiddleware(func(next RoundTripFunc) RoundTripFunc { return next }))
			}
			if err := c.Do(context.Background(), getReq(), &out, opts...); err != nil || out.N != 1 {
				errs <- fmt.Errorf("call %d: %v %+v", i, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDebugLog(t *testing.T) {
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", fmt.Sprintf("rid-%d", n))
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	})
	var buf strings.Builder
	var mu sync.Mutex
	l := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := mustNew(t, srv.URL+"/", WithAPIKey("log-key"), WithLogger(l), WithRetry(fastRetry()))
	if err := c.Do(context.Background(), getReq(), nil); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`msg="runtime: attempt" op=getThing method=GET url=` + srv.URL + `/api/v1/things/1 attempt=1 status=503 request_id=rid-1 duration=`,
		`msg="runtime: retrying" op=getThing attempt=1 wait=`,
		`attempt=2 status=200 request_id=rid-2 duration=`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "log-key") {
		t.Error("log leaks the key")
	}
	// A logger above debug level costs nothing and writes nothing.
	buf.Reset()
	c = mustNew(t, srv.URL, WithLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	if err := c.Do(context.Background(), getReq(), nil); err != nil {
		t.Fatal(err)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestAuthorizeAndHTTPClient(t *testing.T) {
	var got http.Header
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer other.Close()
	origin := httptest.NewServer(http.RedirectHandler(other.URL+"/ws", http.StatusFound))
	defer origin.Close()

	c := mustNew(t, origin.URL, WithAPIKeyHeader("X-API-Key", "hs-key"), WithUserAgent("ua/1"), WithHeader("X-Tenant", "acme"))
	r, err := http.NewRequestWithContext(context.Background(), http.MethodGet, origin.URL+"/api/v1/events/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Authorize(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("X-API-Key") != "hs-key" || r.Header.Get("User-Agent") != "ua/1" || r.Header.Get("X-Tenant") != "acme" {
		t.Fatalf("Authorize set %v", r.Header)
	}
	// The request owns its header values: changing them leaves the client's alone.
	r.Header["X-Api-Key"][0] = "changed"
	r2, _ := http.NewRequest(http.MethodGet, origin.URL, nil)
	if err := c.Authorize(context.Background(), r2); err != nil || r2.Header.Get("X-API-Key") != "hs-key" {
		t.Fatalf("Authorize after a caller's change: %v %v", r2.Header, err)
	}
	// HTTPClient carries the redirect policy: the key does not follow the
	// redirect to another origin.
	resp, err := c.HTTPClient().Do(r2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got == nil || got.Get("X-API-Key") != "" || got.Get("X-Tenant") != "acme" {
		t.Errorf("redirect target saw %v", got)
	}
}
