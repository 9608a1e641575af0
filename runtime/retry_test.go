package runtime

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"99999999999", 24 * time.Hour, true},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffEqualJitter(t *testing.T) {
	p := DefaultRetryPolicy()
	for n := 1; n <= 70; n++ {
		ceil := p.MaxDelay
		if n < 20 {
			ceil = min(p.MaxDelay, p.BaseDelay<<(n-1))
		}
		seen := map[time.Duration]bool{}
		for range 50 {
			d := p.backoff(n)
			if d < ceil/2 || d > ceil {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, ceil/2, ceil)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d) drew only %d distinct values in 50: no jitter?", n, len(seen))
		}
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	d := DefaultRetryPolicy()
	if d.MaxRetries != 3 || d.BaseDelay != 200*time.Millisecond || d.MaxDelay != 10*time.Second {
		t.Errorf("defaults = %+v", d)
	}
	for _, s := range []int{408, 429, 502, 503, 504} {
		if !d.retriesStatus(s) {
			t.Errorf("%d not retried by default", s)
		}
	}
	for _, s := range []int{400, 401, 404, 409, 500, 501} {
		if d.retriesStatus(s) {
			t.Errorf("%d retried by default", s)
		}
	}
	p := RetryPolicy{MaxRetries: -2, BaseDelay: time.Second, MaxDelay: time.Millisecond, Statuses: []int{500}}.withDefaults()
	if p.MaxRetries != 0 || p.MaxDelay != time.Second || !p.retriesStatus(500) || p.retriesStatus(503) {
		t.Errorf("withDefaults = %+v", p)
	}
	if q := (RetryPolicy{MaxRetries: 1}).withDefaults(); q.BaseDelay != d.BaseDelay || q.MaxDelay != d.MaxDelay || len(q.Statuses) != len(d.Statuses) {
		t.Errorf("zero fields not defaulted: %+v", q)
	}
}

func TestBackoffBoundsAndCap(t *testing.T) {
	const base, max = 100 * time.Millisecond, 30 * time.Second
	for n, ceil := range map[int]time.Duration{1: base, 2: 2 * base, 9: 25600 * time.Millisecond, 10: max, 64: max, 1000: max} {
		for range 20 {
			if d := Backoff(n, base, max); d < ceil/2 || d > ceil {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", n, d, ceil/2, ceil)
			}
		}
	}
	if d := Backoff(1, 0, 0); d != 0 {
		t.Fatalf("Backoff with zero bounds = %v, want 0", d)
	}
}

// TestWithRetrySafe: a POST that is not retry-safe ends on a 502 (the
// server may have acted on it); the same POST made safe per call by
// WithRetrySafe is retried and succeeds.
func TestWithRetrySafe(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithRetry(RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	req := Request{OperationID: "append", Method: http.MethodPost, Path: "/s", Body: []byte("x")}
	if err := c.Do(t.Context(), &req, nil); err == nil || n.Load() != 1 {
		t.Fatalf("plain POST: err %v after %d attempts, want a 502 after 1", err, n.Load())
	}
	n.Store(0)
	if err := c.Do(t.Context(), &req, nil, WithRetrySafe()); err != nil || n.Load() != 2 {
		t.Fatalf("WithRetrySafe POST: err %v after %d attempts, want success after 2", err, n.Load())
	}
}

// TestLargeBytesResult: a *[]byte result larger than the buffer pool keeps
// takes the buffer itself; two calls give two independent results.
func TestLargeBytesResult(t *testing.T) {
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i)
	}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := slices.Clone(big)
		b[0] = byte(n.Add(1))
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var first, second []byte
	for _, dst := range []*[]byte{&first, &second} {
		req := Request{OperationID: "get", Method: http.MethodGet, Path: "/", RetrySafe: true}
		if err := c.Do(t.Context(), &req, dst); err != nil {
			t.Fatal(err)
		}
	}
	if len(first) != len(big) || first[0] != 1 || second[0] != 2 || !bytes.Equal(first[1:], big[1:]) || !bytes.Equal(second[1:], big[1:]) {
		t.Fatalf("results: %d bytes starting %d, %d bytes starting %d", len(first), first[0], len(second), second[0])
	}
}

// TestContentTypeParameter: a Content-Type set in the operation's headers
// (a Content-Type header parameter) is sent in place of the body's media
// type; without it the body's type is sent.
func TestContentTypeParameter(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Content-Type")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.Header{{"Content-Type": {"text/plain"}}, nil} {
		req := Request{OperationID: "put", Method: http.MethodPut, Path: "/", Body: []byte("x"), ContentType: "application/octet-stream", Header: h}
		if err := c.Do(t.Context(), &req, nil); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := <-got, <-got; a != "text/plain" || b != "application/octet-stream" {
		t.Fatalf("Content-Type sent: %q, %q", a, b)
	}
}
