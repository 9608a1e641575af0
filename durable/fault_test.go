package durable_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allsource-go/allsource/durable"
	"github.com/allsource-go/allsource/internal/dstest"
	"github.com/allsource-go/allsource/runtime"
)

// fill creates a closed text stream of n numbered items and returns its
// content.
func fill(t *testing.T, s *durable.Stream, n int) string {
	t.Helper()
	ctx := ctxT(t)
	if _, err := s.Create(ctx, durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range n {
		item := fmt.Sprintf("item-%04d;", i)
		want.WriteString(item)
		if _, err := s.Append(ctx, []byte(item)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Close(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return want.String()
}

// TestReadRetries: 5xx and 429 bursts and dropped connections are retried
// in every read mode, and the read delivers everything once.
func TestReadRetries(t *testing.T) {
	srv, c := setup(t)
	s := c.Stream("faults/retry").WithContentType("text/plain")
	want := fill(t, s, 50)
	for _, f := range []dstest.Fault{
		{Status: 503, Count: 3},
		{Status: 500, Count: 2},
		{Status: 429, RetryAfter: 1, Count: 1},
		{DropConnection: true, Count: 2},
		{DelayMs: 300, Count: 2},
	} {
		for _, live := range []durable.LiveMode{durable.LiveOff, durable.LiveLongPoll, durable.LiveSSE, durable.LiveAuto} {
			f.Path, f.Method = "/faults/retry", http.MethodGet
			srv.Inject(t, f)
			start := time.Now()
			got, _ := collect(t, ctxT(t), s, durable.ReadOptions{Live: live})
			if string(got) != want {
				t.Fatalf("%+v %v: read %d bytes, want %d", f, live, len(got), len(want))
			}
			if f.RetryAfter > 0 && time.Since(start) < time.Second {
				t.Errorf("%v: Retry-After of 1 s not honoured (%v)", live, time.Since(start))
			}
		}
	}
}

// TestAppendRetries: a plain append is not sent again once it may have
// reached the server (a 500, a dropped connection), so that failure is
// the caller's; a 429 or 503 refused it and it is retried anyway.
// WithAtLeastOnce retries it through all of them, and every item is
// stored.
func TestAppendRetries(t *testing.T) {
	srv, c := setup(t)
	s := c.Stream("faults/append").WithContentType("text/plain")
	if _, err := s.Create(ctxT(t), durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := ""
	for i, tc := range []struct {
		fault dstest.Fault
		kind  error // of the plain append; nil: retried anyway
	}{
		{dstest.Fault{Status: 500, Count: 2}, durable.ErrServerError},
		{dstest.Fault{DropConnection: true, Count: 1}, durable.ErrNetwork},
		{dstest.Fault{Status: 503, Count: 1}, nil},
		{dstest.Fault{Status: 429, RetryAfter: 1, Count: 1}, nil},
	} {
		f := tc.fault
		f.Path, f.Method = "/faults/append", http.MethodPost
		srv.Inject(t, f)
		item := fmt.Sprintf("plain%d;", i)
		_, err := s.Append(ctxT(t), []byte(item))
		if tc.kind == nil {
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			want += item
		} else {
			wantKind(t, err, tc.kind, "faults/append")
			var ae *runtime.APIError
			if errors.As(err, &ae) && ae.Attempts != 1 {
				t.Fatalf("%+v: %d attempts, want 1", f, ae.Attempts)
			}
		}
		srv.ClearFaults(t)

		srv.Inject(t, f)
		item = fmt.Sprintf("retried%d;", i)
		if _, err := s.Append(ctxT(t), []byte(item), durable.WithAtLeastOnce()); err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		want += item
		srv.ClearFaults(t)
	}
	got, _ := collect(t, ctxT(t), s, durable.ReadOptions{})
	if string(got) != want {
		t.Fatalf("stream holds %q, want %q", got, want)
	}
}

// TestReadGivesUp: a server failing every attempt ends the read with a
// typed error after the retries, naming the stream.
func TestReadGivesUp(t *testing.T) {
	srv, c := setup(t)
	s := c.Stream("faults/down").WithContentType("text/plain")
	fill(t, s, 1)
	for status, kind := range map[int]error{500: durable.ErrServerError, 503: durable.ErrServerError, 429: durable.ErrRateLimited} {
		srv.Inject(t, dstest.Fault{Path: "/faults/down", Method: http.MethodGet, Status: status, Count: 100})
		for _, err := range s.Read(ctxT(t), durable.ReadOptions{}) {
			wantKind(t, err, kind, "faults/down")
			var ae *runtime.APIError
			if !errors.As(err, &ae) || ae.Attempts != fastRetry().MaxRetries+1 {
				t.Fatalf("%d: %v, want %d attempts", status, err, fastRetry().MaxRetries+1)
			}
		}
	}
	srv.ClearFaults(t)
	srv.Inject(t, dstest.Fault{Path: "/faults/down", Method: http.MethodGet, DropConnection: true, Count: 100})
	for _, err := range s.Read(ctxT(t), durable.ReadOptions{Live: durable.LiveSSE}) {
		wantKind(t, err, durable.ErrNetwork, "faults/down")
	}
}

// TestSSEResumesAfterCut drops SSE connections mid-read, in the middle of
// the events (the reference server's truncateBodyBytes does not apply to
// an SSE response, so the client's transport cuts the first responses
// after a number of bytes, as a network failure would): the read
// reconnects from the last control event's offset and delivers every item
// once.
func TestSSEResumesAfterCut(t *testing.T) {
	srv := dstest.Start(t)
	for _, cut := range []int{60, 150, 700, 1500} {
		tr := &cutTransport{next: http.DefaultTransport, cut: cut, left: 3}
		c, err := durable.New(srv.URL, durable.WithRetry(fastRetry()), durable.WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			t.Fatal(err)
		}
		s := c.Stream(fmt.Sprintf("faults/cut/%d", cut)).WithContentType("text/plain")
		want := fill(t, s, 200)
		got, _ := collect(t, ctxT(t), s, durable.ReadOptions{Live: durable.LiveSSE})
		if string(got) != want {
			t.Fatalf("cut at %d: read %d bytes, want %d\n got %q", cut, len(got), len(want), got)
		}
		if tr.cuts.Load() != 3 {
			t.Fatalf("cut at %d: %d connections cut, want 3", cut, tr.cuts.Load())
		}
	}
}

// cutTransport cuts the body of its first left SSE responses after cut
// bytes with io.ErrUnexpectedEOF.
type cutTransport struct {
	next http.RoundTripper
	cut  int
	left int32
	mu   sync.Mutex
	cuts atomic.Int32
}

func (c *cutTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil || r.URL.Query().Get("live") != "sse" {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left > 0 {
		c.left--
		resp.Body = &cutBody{ReadCloser: resp.Body, left: c.cut, t: c}
	}
	return resp, nil
}

type cutBody struct {
	io.ReadCloser
	left int
	t    *cutTransport
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= n
	if b.left <= 0 {
		b.t.cuts.Add(1)
	}
	return n, err
}

// TestCorruptJSON: a JSON stream whose response body is corrupted ends the
// read with ErrProtocol, never with wrong messages.
func TestCorruptJSON(t *testing.T) {
	srv, c := setup(t)
	ctx := ctxT(t)
	s := c.Stream("faults/json").WithContentType("application/json")
	if _, err := s.Create(ctx, durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := s.AppendJSON(ctx, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	srv.Inject(t, dstest.Fault{Path: "/faults/json", Method: http.MethodGet, CorruptBody: true, Count: 1})
	n := 0
	var last error
	for _, err := range s.Messages(ctx, durable.ReadOptions{}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if last == nil {
		if n != 20 {
			t.Fatalf("read %d messages without an error", n)
		}
		t.Skip("the injected corruption left valid JSON")
	}
	wantKind(t, last, durable.ErrProtocol, "faults/json")
}

// TestErrorKinds: every status the brief lists becomes its typed error,
// naming the stream, on appends (statuses injected by the server).
func TestErrorKinds(t *testing.T) {
	srv, c := setup(t)
	ctx := ctxT(t)
	s := c.Stream("faults/kinds").WithContentType("text/plain")
	if _, err := s.Create(ctx, durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for status, kind := range map[int]error{
		400: durable.ErrBadRequest,
		401: durable.ErrUnauthorized,
		403: durable.ErrForbidden,
		404: durable.ErrNotFound,
		405: durable.ErrNotSupported,
		410: durable.ErrGone,
		413: durable.ErrTooLarge,
		418: durable.ErrUnexpectedStatus,
		501: durable.ErrNotSupported,
		507: durable.ErrServerError,
	} {
		srv.Inject(t, dstest.Fault{Path: "/faults/kinds", Method: http.MethodPost, Status: status})
		_, err := s.Append(ctx, []byte("x"))
		wantKind(t, err, kind, "faults/kinds")
		var de *durable.Error
		if errors.As(err, &de); de.StatusCode != status || de.Op != "append" {
			t.Errorf("%d: status %d op %q", status, de.StatusCode, de.Op)
		}
	}
	// A plain append is not retried after a 500 (it may have been
	// stored); 503 and 429 say it was not, so they are.
	srv.Inject(t, dstest.Fault{Path: "/faults/kinds", Method: http.MethodPost, Status: 500})
	_, err := s.Append(ctx, []byte("x"))
	wantKind(t, err, durable.ErrServerError, "faults/kinds")
	srv.Inject(t, dstest.Fault{Path: "/faults/kinds", Method: http.MethodPost, Status: 503, Count: 2})
	if _, err := s.Append(ctx, []byte("y")); err != nil {
		t.Fatalf("append after two 503s: %v", err)
	}
	srv.Inject(t, dstest.Fault{Path: "/faults/kinds", Method: http.MethodPost, Status: 429, Count: 100})
	_, err = s.Append(ctx, []byte("z"))
	wantKind(t, err, durable.ErrRateLimited, "faults/kinds")
	srv.ClearFaults(t)
	got, _ := collect(t, ctx, s, durable.ReadOptions{})
	if string(got) != "y" {
		t.Fatalf("stream holds %q, want y", got)
	}
}

// TestLivePacing: a server that answers every long-poll at once with
// nothing new, or ends every SSE connection right after a keep-alive
// control event, is not asked again without pause: the live read waits
// as a retry would (here an in-process handler: the reference server
// holds such requests, as it should). Unpaced, the loop made about 15,000
// requests a second.
func TestLivePacing(t *testing.T) {
	for _, mode := range []durable.LiveMode{durable.LiveLongPoll, durable.LiveSSE} {
		var requests atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			if r.URL.Query().Get("live") == "sse" {
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = io.WriteString(w, "event: control\ndata:{\"streamNextOffset\":\"0_5\",\"streamCursor\":\"1\",\"upToDate\":true}\n\n")
				return
			}
			w.Header().Set("Stream-Next-Offset", "0_5")
			w.Header().Set("Stream-Up-To-Date", "true")
			w.Header().Set("Stream-Cursor", "1")
			w.WriteHeader(http.StatusNoContent)
		}))
		c, err := durable.New(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(ctxT(t), time.Second)
		for _, err := range c.Stream("quick").WithContentType("text/plain").Read(ctx, durable.ReadOptions{Offset: "0_5", Live: mode}) {
			if err != nil {
				wantKind(t, err, context.DeadlineExceeded, "quick")
				break
			}
		}
		cancel()
		srv.Close()
		// Waits of about 0.1, 0.2 and 0.4 s (jittered) fill the second.
		if n := requests.Load(); n < 2 || n > 10 {
			t.Errorf("%v: %d requests in 1 s, want 2 to 10", mode, n)
		}
	}
}
