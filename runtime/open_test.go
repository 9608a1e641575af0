package runtime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

type tick struct {
	N int `json:"n"`
}

func TestStreamSSEEndsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for {
			if _, err := io.WriteString(w, "data: {\"n\":1}\n\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(time.Millisecond)
		}
	}))
	defer srv.Close()
	// WithTimeout bounds the wait for the headers, not the stream.
	c, err := New(srv.URL, WithTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	start := time.Now()
	for v, err := range StreamSSE(ctx, c, &Request{OperationID: "ticks", Method: http.MethodGet, Path: "/"}, func(ev SSEEvent) (tick, error) {
		var v tick
		return v, DecodeJSONInto(ev.Data, &v)
	}) {
		if err != nil {
			last = err
			break
		}
		if v.N != 1 {
			t.Fatalf("item %+v", v)
		}
		if n++; time.Since(start) > 400*time.Millisecond {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n < 10 {
		t.Fatalf("after %d items: want the context's error, got %v", n, last)
	}
}

func TestOpenRetriesBefore2xxAndReportsErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			_, _ = io.WriteString(w, "body")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"gone"}`)
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithRetry(RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{OperationID: "get", Method: http.MethodGet, Path: "/", RetrySafe: true}
	resp, err := c.Open(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "body" || calls.Load() != 2 {
		t.Fatalf("%q %v after %d calls", b, err, calls.Load())
	}
	_, err = c.Open(context.Background(), req)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || string(apiErr.Body) != `{"error":"gone"}` {
		t.Fatalf("want the 404 as an *APIError, got %v", err)
	}
}

func TestOpenHeaderTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithTimeout(100*time.Millisecond), WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Open(context.Background(), &Request{OperationID: "slow", Method: http.MethodGet, Path: "/"})
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a timeout, got %v", err)
	}
}
