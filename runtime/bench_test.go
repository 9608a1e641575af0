package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// benchThing is the small JSON object the benchmark server returns.
type benchThing struct {
	ID      string `json:"id"`
	Type    string `json:"event_type"`
	Version int64  `json:"version"`
	OK      bool   `json:"ok"`
}

const benchBody = `{"id":"5f0c4e2a-8d1b-4c7e-9a3f-2b6d8e1f4a7c","event_type":"order.placed","version":42,"ok":true}`

const benchKey = "ask_bench-key-0123456789"

func newBenchServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+benchKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchBody)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkRoundTrip compares one JSON request-response round trip on
// loopback through the runtime with the same round trip written by hand
// with net/http and encoding/json, against one server in the same run.
// Both send Accept and Authorization headers and decode the same object;
// both use a dedicated *http.Client with the same kind of connection pool.
func BenchmarkRoundTrip(b *testing.B) {
	srv := newBenchServer(b)
	ctx := context.Background()
	ingest := []byte(`{"event_type":"order.placed","entity_id":"order-1","payload":{"total":42}}`)

	b.Run("nethttp", func(b *testing.B) {
		hc := newHTTPClient()
		b.ReportAllocs()
		for b.Loop() {
			var v benchThing
			if err := plainGet(ctx, hc, srv.URL+"/api/v1/things/1", &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("runtime", func(b *testing.B) {
		c, err := New(srv.URL, WithAPIKey(benchKey))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			var v benchThing
			req := &Request{OperationID: "getThing", Method: http.MethodGet, Path: "/api/v1/things/1", RetrySafe: true}
			if err := c.Do(ctx, req, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same GET bounded by a timeout: by hand, a context with a
	// deadline per call; through the runtime, WithAttemptTimeout.
	b.Run("nethttp-timeout", func(b *testing.B) {
		hc := newHTTPClient()
		b.ReportAllocs()
		for b.Loop() {
			var v benchThing
			tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := plainGet(tctx, hc, srv.URL+"/api/v1/things/1", &v)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("runtime-timeout", func(b *testing.B) {
		c, err := New(srv.URL, WithAPIKey(benchKey), WithAttemptTimeout(30*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			var v benchThing
			req := &Request{OperationID: "getThing", Method: http.MethodGet, Path: "/api/v1/things/1", RetrySafe: true}
			if err := c.Do(ctx, req, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nethttp-post", func(b *testing.B) {
		hc := newHTTPClient()
		b.ReportAllocs()
		for b.Loop() {
			var v benchThing
			if err := plainPost(ctx, hc, srv.URL+"/api/v1/events", ingest, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("runtime-post", func(b *testing.B) {
		c, err := New(srv.URL, WithAPIKey(benchKey))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			var v benchThing
			req := &Request{OperationID: "ingestEvent", Method: http.MethodPost, Path: "/api/v1/events",
				Body: ingest, ContentType: "application/json"}
			if err := c.Do(ctx, req, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRoundTripPaired makes the two GET round trips of
// BenchmarkRoundTrip alternately within each iteration and reports the
// time of each and the runtime's overhead in percent. Alternating makes the
// comparison fair on a machine whose load drifts while the benchmark runs;
// allocations are reported exactly by BenchmarkRoundTrip's sub-benchmarks.
func BenchmarkRoundTripPaired(b *testing.B) {
	srv := newBenchServer(b)
	ctx := context.Background()
	ingest := []byte(`{"event_type":"order.placed","entity_id":"order-1","payload":{"total":42}}`)
	for _, post := range []bool{false, true} {
		name := "get"
		if post {
			name = "post"
		}
		b.Run(name, func(b *testing.B) {
			hc := newHTTPClient()
			c, err := New(srv.URL, WithAPIKey(benchKey))
			if err != nil {
				b.Fatal(err)
			}
			var plain, rt time.Duration
			for b.Loop() {
				var v, w benchThing
				t0 := time.Now()
				if post {
					err = plainPost(ctx, hc, srv.URL+"/api/v1/events", ingest, &v)
				} else {
					err = plainGet(ctx, hc, srv.URL+"/api/v1/things/1", &v)
				}
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				req := &Request{OperationID: "getThing", Method: http.MethodGet, Path: "/api/v1/things/1", RetrySafe: true}
				if post {
					req = &Request{OperationID: "ingestEvent", Method: http.MethodPost, Path: "/api/v1/events",
						Body: ingest, ContentType: "application/json"}
				}
				if err := c.Do(ctx, req, &w); err != nil {
					b.Fatal(err)
				}
				rt += time.Since(t1)
				plain += t1.Sub(t0)
			}
			b.ReportMetric(float64(plain.Nanoseconds())/float64(b.N), "nethttp-ns/op")
			b.ReportMetric(float64(rt.Nanoseconds())/float64(b.N), "runtime-ns/op")
			b.ReportMetric(100*(float64(rt)/float64(plain)-1), "overhead-%")
		})
	}
}

// plainGet is the hand-written baseline for a GET.
func plainGet(ctx context.Context, hc *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	return plainDo(hc, req, v)
}

// plainPost is the hand-written baseline for a JSON POST.
func plainPost(ctx context.Context, hc *http.Client, url string, body []byte, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return plainDo(hc, req, v)
}

func plainDo(hc *http.Client, req *http.Request, v any) error {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+benchKey)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
