package runtime

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestFaults injects every fault the runtime must survive, against real
// servers on loopback, and checks exact attempt counts (client side and
// server side) and that no ingest-like request was sent twice where the
// rules forbid it. Finally it greps every error string and log line the
// faults produced for the API key.
func TestFaults(t *testing.T) {
	h := &harness{}
	ctx := context.Background()

	t.Run("ConnectionRefused", func(t *testing.T) {
		addr := closedPort(t)
		for _, tc := range []struct {
			name string
			req  *Request
		}{{"get", getReq()}, {"ingest", ingestReq()}} {
			e := newEnv(h)
			c := e.client(t, "http://"+addr, false)
			err := e.do(ctx, c, tc.req, nil)
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("%s: err = %v, want connection refused", tc.name, err)
			}
			// Nothing reached a server, so even ingest is retried.
			wantAttempts(t, tc.name+" attempts", e.attempts.Load(), 4)
			wantAttempts(t, tc.name+" waits", int64(len(e.waits.all())), 3)
		}
	})

	t.Run("DNSFailure", func(t *testing.T) {
		// A resolver that fails every lookup, so that no network is needed.
		dnsDown := errors.New("resolver unreachable")
		dialer := &net.Dialer{Resolver: &net.Resolver{PreferGo: true,
			Dial: func(context.Context, string, string) (net.Conn, error) { return nil, dnsDown }}}
		hc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
		e := newEnv(h)
		c := e.client(t, "http://core.allsource.invalid:3900", false, WithHTTPClient(hc))
		err := e.do(ctx, c, ingestReq(), nil)
		var de *net.DNSError
		if !errors.As(err, &de) {
			t.Fatalf("err = %v, want a DNS error", err)
		}
		// Nothing was sent: ingest is retried.
		wantAttempts(t, "attempts", e.attempts.Load(), 4)
	})

	t.Run("ResetBeforeRequestWritten", func(t *testing.T) {
		// The server resets every connection during the TLS handshake: no
		// byte of the HTTP request is ever written, so ingest is retried.
		ln := newResetListener(t, false)
		e := newEnv(h)
		c := e.client(t, "https://"+ln.ln.Addr().String(), false)
		err := e.do(ctx, c, ingestReq(), nil)
		if err == nil {
			t.Fatal("no error")
		}
		wantAttempts(t, "attempts", e.attempts.Load(), 4)
		wantAttempts(t, "connections", ln.accepted.Load(), 4)
	})

	t.Run("ResetWhileRequestIsWritten", func(t *testing.T) {
		// The server resets the connection as soon as the first byte of
		// the request arrives: it may or may not have acted on a partial
		// request as far as the client can tell. The rules take the safe
		// side: ingest is not retried, a GET is.
		ln := newResetListener(t, true)
		e := newEnv(h)
		c := e.client(t, "http://"+ln.ln.Addr().String(), false)
		if err := e.do(ctx, c, ingestReq(), nil); err == nil {
			t.Fatal("ingest: no error")
		}
		wantAttempts(t, "ingest attempts", e.attempts.Load(), 1)
		wantAttempts(t, "ingest connections", ln.accepted.Load(), 1)

		e = newEnv(h)
		c = e.client(t, "http://"+ln.ln.Addr().String(), false)
		if err := e.do(ctx, c, getReq(), nil); err == nil {
			t.Fatal("get: no error")
		}
		wantAttempts(t, "get attempts", e.attempts.Load(), 4)
		wantAttempts(t, "all connections", ln.accepted.Load(), 5)
	})

	t.Run("ResetAfterRequestWritten", func(t *testing.T) {
		var stored atomic.Int64
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				t.Errorf("read body: %v", err)
			}
			if r.Method == http.MethodPost {
				stored.Add(1) // the server acted on the request, then the connection died
			}
			resetConn(t, w)
		})
		e := newEnv(h)
		c := e.client(t, srv.URL, false)
		err := e.do(ctx, c, ingestReq(), nil)
		var ue *url.Error
		if err == nil || errors.Is(err, ErrProtocol) || !errors.As(err, &ue) {
			t.Fatalf("ingest err = %v, want a transport error", err)
		}
		wantAttempts(t, "ingest attempts", e.attempts.Load(), 1)
		wantAttempts(t, "ingest requests received", srv.hits.Load(), 1)
		wantAttempts(t, "events stored", stored.Load(), 1)

		e = newEnv(h)
		c = e.client(t, srv.URL, false)
		if err := e.do(ctx, c, getReq(), nil); err == nil {
			t.Fatal("get: no error")
		}
		wantAttempts(t, "get attempts", e.attempts.Load(), 4)
		wantAttempts(t, "get requests received", srv.hits.Load()-1, 4)

		// An operation the spec marks x-retry-safe is retried like a GET.
		e = newEnv(h)
		c = e.client(t, srv.URL, false)
		safe := ingestReq()
		safe.RetrySafe = true
		if err := e.do(ctx, c, safe, nil); err == nil {
			t.Fatal("retry-safe post: no error")
		}
		wantAttempts(t, "retry-safe post attempts", e.attempts.Load(), 4)
	})

	t.Run("ServiceUnavailableBurst", func(t *testing.T) {
		for _, retryAfter := range []string{"", "1"} {
			var stored atomic.Int64
			srv := newCounted(t, h, func(n int64, w http.ResponseWriter, r *http.Request) {
				if n <= 2 {
					if retryAfter != "" {
						w.Header().Set("Retry-After", retryAfter)
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusServiceUnavailable)
					_, _ = io.WriteString(w, `{"error":"Queue full"}`)
					return
				}
				stored.Add(1)
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"event_id":"e1","timestamp":"2026-01-01T00:00:00Z","version":1}`)
			})
			e := newEnv(h)
			c := e.client(t, srv.URL, false, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}))
			var out struct {
				EventID string `json:"event_id"`
				Version int64  `json:"version"`
			}
			if err := e.do(ctx, c, ingestReq(), &out); err != nil {
				t.Fatalf("Retry-After %q: %v", retryAfter, err)
			}
			if out.EventID != "e1" || out.Version != 1 {
				t.Errorf("decoded %+v", out)
			}
			// 503 is a refusal: the ingest is retried, and stored once.
			wantAttempts(t, "attempts", e.attempts.Load(), 3)
			wantAttempts(t, "requests received", srv.hits.Load(), 3)
			wantAttempts(t, "events stored", stored.Load(), 1)
			ws := e.waits.all()
			if len(ws) != 2 {
				t.Fatalf("waits = %v, want 2", ws)
			}
			for i, d := range ws {
				if retryAfter == "1" && d != time.Second {
					t.Errorf("wait %d = %v, want the server's Retry-After of 1s", i, d)
				}
				if lo, hi := time.Millisecond<<i/2, time.Millisecond<<i; retryAfter == "" && (d < lo || d > hi) {
					t.Errorf("wait %d = %v, want equal-jitter backoff within [%v, %v]", i, d, lo, hi)
				}
			}
		}
	})

	t.Run("RateLimitBurst", func(t *testing.T) {
		// Core's 429: plain text, with Retry-After in seconds (omitted by
		// Core when it rounds to zero).
		for _, retryAfter := range []string{"2", ""} {
			var stored atomic.Int64
			srv := newCounted(t, h, func(n int64, w http.ResponseWriter, r *http.Request) {
				if n <= 2 {
					if retryAfter != "" {
						w.Header().Set("Retry-After", retryAfter)
					}
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = io.WriteString(w, "Rate limit exceeded. Limit: 60 requests/min")
					return
				}
				stored.Add(1)
				_, _ = io.WriteString(w, `{}`)
			})
			e := newEnv(h)
			c := e.client(t, srv.URL, false, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}))
			if err := e.do(ctx, c, ingestReq(), nil); err != nil {
				t.Fatal(err)
			}
			wantAttempts(t, "attempts", e.attempts.Load(), 3)
			wantAttempts(t, "requests received", srv.hits.Load(), 3)
			wantAttempts(t, "events stored", stored.Load(), 1)
			ws := e.waits.all()
			if len(ws) != 2 {
				t.Fatalf("waits = %v", ws)
			}
			if retryAfter == "2" && (ws[0] != 2*time.Second || ws[1] != 2*time.Second) {
				t.Errorf("waits = %v, want [2s 2s]", ws)
			}
			if retryAfter == "" && (ws[0] > time.Millisecond || ws[1] > 2*time.Millisecond) {
				t.Errorf("waits = %v, want the 1ms-base backoff", ws)
			}
		}
	})

	t.Run("RateLimitPersistent", func(t *testing.T) {
		// The Query Service's 429: JSON with the hint in the body too.
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"code":"rate_limit_exceeded","message":"Rate limit exceeded","retry_after_seconds":1,"tier":"free","limit":10}}`)
		})
		e := newEnv(h)
		c := e.client(t, srv.URL, false, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}))
		err := e.do(ctx, c, getReq(), nil)
		var ae *APIError
		if !errors.As(err, &ae) || !errors.Is(err, ErrRateLimited) {
			t.Fatalf("err = %v, want a rate-limit APIError", err)
		}
		if ae.Attempts != 4 || ae.Code != "rate_limit_exceeded" {
			t.Errorf("attempts %d code %q", ae.Attempts, ae.Code)
		}
		if d, ok := ae.RetryAfter(); !ok || d != time.Second {
			t.Errorf("RetryAfter = %v %v, want 1s", d, ok)
		}
		wantAttempts(t, "attempts", e.attempts.Load(), 4)
		wantAttempts(t, "requests received", srv.hits.Load(), 4)
	})

	t.Run("RetryAfterBeyondCap", func(t *testing.T) {
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		e := newEnv(h)
		c := e.client(t, srv.URL, false)
		err := e.do(ctx, c, getReq(), nil)
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("err = %v", err)
		}
		if d, _ := ae.RetryAfter(); d != 120*time.Second {
			t.Errorf("RetryAfter = %v", d)
		}
		// The server asked for more than the 20 ms cap: no retry sooner
		// than it asked, and no wait longer than the cap.
		wantAttempts(t, "attempts", e.attempts.Load(), 1)
		wantAttempts(t, "waits", int64(len(e.waits.all())), 0)
	})

	t.Run("RetryAfterHTTPDate", func(t *testing.T) {
		srv := newCounted(t, h, func(n int64, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				w.Header().Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = io.WriteString(w, `{}`)
		})
		e := newEnv(h)
		c := e.client(t, srv.URL, false, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Second}))
		if err := e.do(ctx, c, getReq(), nil); err != nil {
			t.Fatal(err)
		}
		ws := e.waits.all()
		if len(ws) != 1 || ws[0] < time.Second || ws[0] > 3*time.Second {
			t.Errorf("waits = %v, want one wait of about 2-3s", ws)
		}
		wantAttempts(t, "attempts", e.attempts.Load(), 2)
	})

	t.Run("BadGatewayBurst", func(t *testing.T) {
		var stored atomic.Int64
		srv := newCounted(t, h, func(n int64, w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				stored.Add(1) // a gateway's 502 may come after the upstream stored the event
			}
			if n <= 2 || r.Method == http.MethodPost {
				w.WriteHeader(http.StatusBadGateway)
				_, _ = io.WriteString(w, `{"error":"delegation upstream","message":"connection reset"}`)
				return
			}
			_, _ = io.WriteString(w, `{}`)
		})
		e := newEnv(h)
		c := e.client(t, srv.URL, false)
		if err := e.do(ctx, c, getReq(), nil); err != nil {
			t.Fatalf("get: %v", err)
		}
		wantAttempts(t, "get attempts", e.attempts.Load(), 3)

		e = newEnv(h)
		c = e.client(t, srv.URL, false)
		err := e.do(ctx, c, ingestReq(), nil)
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadGateway || ae.Code != "delegation upstream" && ae.Message != "connection reset" {
			t.Fatalf("ingest err = %v", err)
		}
		wantAttempts(t, "ingest attempts", e.attempts.Load(), 1)
		wantAttempts(t, "events stored", stored.Load(), 1)
	})

	t.Run("InternalErrorNotRetried", func(t *testing.T) {
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":"Storage error: disk full"}`)
		})
		e := newEnv(h)
		c := e.client(t, srv.URL, false)
		err := e.do(ctx, c, getReq(), nil)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Message != "Storage error: disk full" {
			t.Fatalf("err = %v", err)
		}
		wantAttempts(t, "attempts", e.attempts.Load(), 1)
	})

	t.Run("SlowResponsePastAttemptTimeout", func(t *testing.T) {
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client hanging up
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		})
		for _, tc := range []struct {
			name string
			req  *Request
			want int64
		}{{"get", getReq(), 4}, {"ingest", ingestReq(), 1}} {
			e := newEnv(h)
			c := e.client(t, srv.URL, false, WithAttemptTimeout(30*time.Millisecond))
			before := srv.hits.Load()
			err := e.do(ctx, c, tc.req, nil)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: err = %v, want deadline exceeded", tc.name, err)
			}
			wantAttempts(t, tc.name+" attempts", e.attempts.Load(), tc.want)
			wantAttempts(t, tc.name+" requests received", srv.hits.Load()-before, tc.want)
		}
	})

	t.Run("TruncatedBody", func(t *testing.T) {
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"event_id\":\"e1")
			_ = buf.Flush()
			_ = conn.Close()
		})
		for _, tc := range []struct {
			name string
			req  *Request
			want int64
		}{{"get", getReq(), 4}, {"ingest", ingestReq(), 1}} {
			e := newEnv(h)
			c := e.client(t, srv.URL, false)
			var out map[string]any
			err := e.do(ctx, c, tc.req, &out)
			if !errors.Is(err, ErrProtocol) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s: err = %v, want ErrProtocol wrapping io.ErrUnexpectedEOF", tc.name, err)
			}
			wantAttempts(t, tc.name+" attempts", e.attempts.Load(), tc.want)
		}
	})

	t.Run("MalformedBody", func(t *testing.T) {
		bodies := []string{`{"event_id":"e1",}`, `{"version":"seven"}`, `<html>oops</html>`, ``}
		srv := newCounted(t, h, func(n int64, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, bodies[(n-1)%int64(len(bodies))])
		})
		for i := range bodies {
			e := newEnv(h)
			c := e.client(t, srv.URL, false)
			var out struct {
				EventID string `json:"event_id"`
				Version int64  `json:"version"`
			}
			err := e.do(ctx, c, getReq(), &out)
			var pe *ProtocolError
			if !errors.As(err, &pe) || !errors.Is(err, ErrProtocol) || pe.StatusCode != http.StatusOK {
				t.Fatalf("body %d: err = %v, want a ProtocolError", i, err)
			}
			wantAttempts(t, "attempts", e.attempts.Load(), 1)
		}
	})

	t.Run("BodyNeverEnds", func(t *testing.T) {
		// A server that keeps sending: within the size limit it is cut by
		// the attempt timeout; past the limit, by the limit.
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			fast := r.URL.Query().Get("fast") == "1"
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `[`)
			chunk := strings.Repeat(`1,`, 4096)
			for {
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				if fast {
					continue
				}
				select {
				case <-r.Context().Done():
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		})
		e := newEnv(h)
		c := e.client(t, srv.URL, false, WithAttemptTimeout(50*time.Millisecond))
		var out []int
		err := e.do(ctx, c, getReq(), &out)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("slow: err = %v, want deadline exceeded", err)
		}
		wantAttempts(t, "slow attempts", e.attempts.Load(), 4)

		e = newEnv(h)
		c = e.client(t, srv.URL, false, WithMaxResponseBytes(64<<10))
		req := getReq()
		req.Query = map[string][]string{"fast": {"1"}}
		err = e.do(ctx, c, req, &out)
		var pe *ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "larger than") || !errors.Is(err, ErrResponseTooLarge) {
			t.Fatalf("fast: err = %v, want a too-large ProtocolError", err)
		}
		wantAttempts(t, "fast attempts", e.attempts.Load(), 1)
	})

	t.Run("CircuitOpenAndRecovery", func(t *testing.T) {
		var healthy atomic.Bool
		release := make(chan struct{})
		probeIn := make(chan struct{}, 1)
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			if !healthy.Load() {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			if r.URL.Query().Get("probe") == "1" {
				probeIn <- struct{}{}
				<-release
			}
			_, _ = io.WriteString(w, `{}`)
		})
		var changes []string
		var mu sync.Mutex
		b := NewCircuitBreaker(CircuitBreakerSettings{Threshold: 2, Cooldown: 100 * time.Millisecond,
			OnStateChange: func(from, to CircuitState) {
				mu.Lock()
				changes = append(changes, from.String()+"->"+to.String())
				mu.Unlock()
			}})
		e := newEnv(h)
		c := e.client(t, srv.URL, false, WithCircuitBreaker(b), WithMaxRetries(0))

		for i := range 2 {
			err := e.do(ctx, c, getReq(), nil)
			var ae *APIError
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusInternalServerError || errors.Is(err, ErrCircuitOpen) {
				t.Fatalf("call %d: err = %v, want the 500", i, err)
			}
		}
		if b.State() != CircuitOpen {
			t.Fatalf("state = %v after 2 failures, want open", b.State())
		}
		opened := time.Now()
		err := e.do(ctx, c, getReq(), nil)
		var open *CircuitOpenError
		if !errors.As(err, &open) || !errors.Is(err, ErrCircuitOpen) || open.Probing {
			t.Fatalf("err = %v, want CircuitOpenError", err)
		}
		if d := open.RetryAt.Sub(opened); d <= 0 || d > 100*time.Millisecond {
			t.Errorf("RetryAt is %v after opening, want within the 100ms cool-down", d)
		}
		if !strings.Contains(err.Error(), "next attempt allowed at") {
			t.Errorf("error does not say when: %v", err)
		}
		wantAttempts(t, "requests received while open", srv.hits.Load(), 2)

		// After the cool-down exactly one probe goes through; calls made
		// while it is in flight fail fast without reaching the server.
		healthy.Store(true)
		time.Sleep(time.Until(open.RetryAt) + 10*time.Millisecond)
		probeErr := make(chan error, 1)
		go func() {
			req := getReq()
			req.Query = map[string][]string{"probe": {"1"}}
			probeErr <- e.do(ctx, c, req, nil)
		}()
		<-probeIn
		for i := range 5 {
			err := e.do(ctx, c, getReq(), nil)
			if !errors.As(err, &open) || !open.Probing {
				t.Fatalf("call %d during probe: err = %v, want fail-fast while probing", i, err)
			}
		}
		wantAttempts(t, "requests received during probe", srv.hits.Load(), 3)
		close(release)
		if err := <-probeErr; err != nil {
			t.Fatalf("probe: %v", err)
		}
		if b.State() != CircuitClosed {
			t.Fatalf("state = %v after a good probe, want closed", b.State())
		}
		if err := e.do(ctx, c, getReq(), nil); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
		mu.Lock()
		got := strings.Join(changes, ",")
		mu.Unlock()
		if got != "closed->open,open->half-open,half-open->closed" {
			t.Errorf("state changes = %s", got)
		}
	})

	t.Run("CircuitCountsOnlyServerFailures", func(t *testing.T) {
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			switch r.URL.Query().Get("s") {
			case "404":
				w.WriteHeader(http.StatusNotFound)
				_, _ = io.WriteString(w, `{"error":"Entity not found: order-9"}`)
			case "slow":
				<-r.Context().Done()
			default:
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		})
		b := NewCircuitBreaker(CircuitBreakerSettings{Threshold: 2, Cooldown: time.Minute})
		e := newEnv(h)
		c := e.client(t, srv.URL, false, WithCircuitBreaker(b), WithMaxRetries(0))
		withS := func(s string) *Request {
			r := getReq()
			r.Query = map[string][]string{"s": {s}}
			return r
		}
		for range 5 {
			if err := e.do(ctx, c, withS("404"), nil); !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want not found", err)
			}
		}
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(20*time.Millisecond, cancel)
		if err := e.do(cctx, c, withS("slow"), nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want canceled", err)
		}
		if err := e.do(ctx, c, withS("503"), nil); errors.Is(err, ErrCircuitOpen) {
			t.Fatal("opened early")
		}
		if b.State() != CircuitClosed {
			t.Fatalf("404s and a cancellation opened the circuit")
		}
		_ = e.do(ctx, c, withS("503"), nil)
		if b.State() != CircuitOpen {
			t.Fatalf("state = %v after two 503s, want open", b.State())
		}
	})

	t.Run("RedirectToAnotherHost", func(t *testing.T) {
		type seen struct{ auth, apiKey, query string }
		var mu sync.Mutex
		var got []seen
		other := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, seen{r.Header.Get("Authorization"), r.Header.Get("X-API-Key"), r.URL.RawQuery})
			mu.Unlock()
			_, _ = io.WriteString(w, `{}`)
		})
		otherPort := other.Listener.Addr().(*net.TCPAddr).Port
		origin := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/same":
				http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
			case "/final":
				mu.Lock()
				got = append(got, seen{r.Header.Get("Authorization"), r.Header.Get("X-API-Key"), r.URL.RawQuery})
				mu.Unlock()
				_, _ = io.WriteString(w, `{}`)
			case "/other-name":
				// Same IP, another host name and port.
				http.Redirect(w, r, "http://localhost:"+strconv.Itoa(otherPort)+"/x", http.StatusFound)
			default:
				http.Redirect(w, r, other.URL+"/x", http.StatusTemporaryRedirect)
			}
		})
		for _, tc := range []struct {
			name string
			opt  Option
		}{
			{"bearer", WithAPIKey(testKey)},
			{"x-api-key", WithAPIKeyHeader("X-API-Key", testKey)},
		} {
			got = nil
			e := newEnv(h)
			c := e.client(t, origin.URL, false, tc.opt)
			for _, path := range []string{"/elsewhere", "/other-name", "/same"} {
				req := getReq()
				req.Path = path
				if err := e.do(ctx, c, req, nil); err != nil {
					t.Fatalf("%s %s: %v", tc.name, path, err)
				}
			}
			if len(got) != 3 {
				t.Fatalf("%s: %d requests reached the targets, want 3", tc.name, len(got))
			}
			for i, s := range got[:2] {
				if s.auth != "" || s.apiKey != "" {
					t.Errorf("%s: cross-host redirect %d carried credentials (Authorization %t, X-API-Key %t)",
						tc.name, i, s.auth != "", s.apiKey != "")
				}
			}
			if s := got[2]; s.auth == "" && s.apiKey == "" {
				t.Errorf("%s: same-origin redirect lost the credentials", tc.name)
			}
		}
	})

	t.Run("CancelDuringBackoff", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		e := newEnv(h)
		// Real waits this time: a 10 s backoff that the cancellation must cut.
		c := e.client(t, srv.URL, true, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: 10 * time.Second, MaxDelay: 10 * time.Second}),
			WithMiddleware(func(next RoundTripFunc) RoundTripFunc {
				return func(r *http.Request) (*http.Response, error) {
					resp, err := next(r)
					time.AfterFunc(20*time.Millisecond, cancel) // cancel once the backoff has begun
					return resp, err
				}
			}))
		start := time.Now()
		err := e.do(cctx, c, getReq(), nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want canceled", err)
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("the last attempt's 503 is not reachable: %v", err)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("Do returned after %v: the backoff wait was not cut short", el)
		}
		wantAttempts(t, "attempts", e.attempts.Load(), 1)
	})

	t.Run("StreamedBody", func(t *testing.T) {
		var bodies []string
		var mu sync.Mutex
		srv := newCounted(t, h, func(n int64, w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
			if n%3 != 0 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = io.WriteString(w, `{}`)
		})
		const payload = `{"events":[{"event_type":"a.b","entity_id":"x","payload":{}}]}`
		// A seekable stream is rewound and re-sent whole.
		e := newEnv(h)
		c := e.client(t, srv.URL, false)
		req := ingestReq()
		req.Body, req.BodyStream = nil, strings.NewReader(payload)
		if err := e.do(ctx, c, req, nil); err != nil {
			t.Fatal(err)
		}
		wantAttempts(t, "seekable attempts", e.attempts.Load(), 3)
		for i, b := range bodies {
			if b != payload {
				t.Errorf("attempt %d sent %q", i+1, b)
			}
		}
		// In-memory streams are taken whole and re-sent whole, a buffer
		// (which cannot seek) included; the buffer ends up consumed, as
		// reading it would leave it.
		buf := bytes.NewBufferString(payload)
		for name, r := range map[string]io.Reader{"buffer": buf, "bytes reader": bytes.NewReader([]byte(payload))} {
			mu.Lock()
			bodies = nil
			mu.Unlock()
			srv.hits.Store(0)
			e = newEnv(h)
			c = e.client(t, srv.URL, false)
			req = ingestReq()
			req.Body, req.BodyStream = nil, r
			if err := e.do(ctx, c, req, nil); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			wantAttempts(t, name+" attempts", e.attempts.Load(), 3)
			for i, b := range bodies {
				if b != payload {
					t.Errorf("%s: attempt %d sent %q", name, i+1, b)
				}
			}
		}
		if buf.Len() != 0 {
			t.Errorf("the buffer still holds %d bytes", buf.Len())
		}
		// A one-shot stream that was consumed cannot be re-sent.
		e = newEnv(h)
		c = e.client(t, srv.URL, false)
		req = ingestReq()
		req.Body, req.BodyStream = nil, io.MultiReader(strings.NewReader(payload))
		err := e.do(ctx, c, req, nil)
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("err = %v, want the 503", err)
		}
		wantAttempts(t, "one-shot attempts", e.attempts.Load(), 1)
	})

	t.Run("APIKeyInQuery", func(t *testing.T) {
		srv := newCounted(t, h, func(_ int64, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "Invalid authorization header")
		})
		e := newEnv(h)
		c := e.client(t, srv.URL, false, WithAPIKeyQuery("api_key", testKey))
		req := getReq()
		req.Query = map[string][]string{"entity_id": {"order-1"}}
		err := e.do(ctx, c, req, nil)
		var ae *APIError
		if !errors.As(err, &ae) || !errors.Is(err, ErrUnauthorized) || ae.Message != "Invalid authorization header" {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(ae.URL, "entity_id=order-1") {
			t.Errorf("URL %q lost its ordinary parameters", ae.URL)
		}
	})

	// Every error and log line above, grepped for the key.
	h.mu.Lock()
	defer h.mu.Unlock()
	if testing.Verbose() {
		t.Logf("captured errors:\n%s", strings.Join(h.errs, "\n"))
		t.Logf("captured logs:\n%s", h.logs.String())
	}
	if len(h.errs) == 0 {
		t.Log("no fault ran (filtered run): nothing to grep")
		return
	}
	if h.logs.Len() == 0 || h.sawKey.Load() == 0 {
		t.Fatalf("the grep would prove nothing: %d log bytes, %d requests carried the key", h.logs.Len(), h.sawKey.Load())
	}
	for _, s := range h.errs {
		if strings.Contains(s, testKey) {
			t.Errorf("error leaks the key: %s", s)
		}
	}
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, testKey) {
			t.Errorf("log line leaks the key: %s", line)
		}
	}
}
