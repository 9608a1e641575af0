package durable_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allsource-go/allsource/durable"
	"github.com/allsource-go/allsource/internal/dstest"
	"github.com/allsource-go/allsource/runtime"
)

// setup starts a reference server and returns it with a client of it.
func setup(t *testing.T, opts ...durable.Option) (*dstest.Server, *durable.Client) {
	t.Helper()
	srv := dstest.Start(t)
	opts = append([]durable.Option{durable.WithRetry(fastRetry())}, opts...)
	c, err := durable.New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collect reads s to its end (the stream must get closed) and returns the
// data read, in order, and the chunks.
func collect(t *testing.T, ctx context.Context, s *durable.Stream, o durable.ReadOptions) ([]byte, []durable.Chunk) {
	t.Helper()
	var data []byte
	var chunks []durable.Chunk
	for ch, err := range s.Read(ctx, o) {
		if err != nil {
			t.Fatalf("read %v: %v", o.Live, err)
		}
		data = append(data, ch.Data...)
		chunks = append(chunks, ch)
	}
	return data, chunks
}

func wantKind(t *testing.T, err error, kind error, path string) {
	t.Helper()
	var de *durable.Error
	if !errors.Is(err, kind) || !errors.As(err, &de) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the stream %s", err, path)
	}
}

func TestStreamLifecycle(t *testing.T) {
	_, c := setup(t)
	ctx := ctxT(t)
	s := c.Stream("/tenants/7/log").WithContentType("text/plain")
	res, err := s.Create(ctx, durable.CreateOptions{TTL: time.Hour, Data: []byte("hello ")})
	if err != nil || !res.Created || res.NextOffset == "" {
		t.Fatalf("create: %+v, %v", res, err)
	}
	again, err := s.Create(ctx, durable.CreateOptions{TTL: time.Hour})
	if err != nil || again.Created {
		t.Fatalf("create again: %+v, %v", again, err)
	}
	_, err = s.Create(ctx, durable.CreateOptions{ContentType: "application/json"})
	wantKind(t, err, durable.ErrExists, "tenants/7/log")
	if !errors.Is(err, durable.ErrConflict) {
		t.Errorf("ErrExists does not match ErrConflict")
	}
	next, err := s.Append(ctx, []byte("world"))
	if err != nil || next <= res.NextOffset {
		t.Fatalf("append: %q, %v (create offset %q)", next, err, res.NextOffset)
	}
	m, err := s.Head(ctx)
	if err != nil || m.NextOffset != next || m.Closed || !strings.HasPrefix(m.ContentType, "text/plain") || m.TTL != time.Hour {
		t.Fatalf("head: %+v, %v", m, err)
	}
	data, chunks := func() ([]byte, []durable.Chunk) {
		var d []byte
		var cs []durable.Chunk
		for ch, err := range s.Read(ctx, durable.ReadOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			d = append(d, ch.Data...)
			cs = append(cs, ch)
		}
		return d, cs
	}()
	if string(data) != "hello world" || !chunks[len(chunks)-1].UpToDate || chunks[len(chunks)-1].NextOffset != next {
		t.Fatalf("catch-up read: %q, %+v", data, chunks)
	}
	final, err := s.Close(ctx, []byte("!"))
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.Close(ctx, nil); err != nil || again != final {
		t.Fatalf("close again: %q, %v; want %q", again, err, final)
	}
	_, err = s.Append(ctx, []byte("late"))
	wantKind(t, err, durable.ErrClosed, "tenants/7/log")
	var de *durable.Error
	errors.As(err, &de)
	if de.FinalOffset != final || de.StatusCode != http.StatusConflict {
		t.Errorf("closed error: final offset %q status %d, want %q 409", de.FinalOffset, de.StatusCode, final)
	}
	data, chunks = collect(t, ctx, s, durable.ReadOptions{Live: durable.LiveLongPoll})
	if string(data) != "hello world!" || !chunks[len(chunks)-1].Closed {
		t.Fatalf("read of the closed stream: %q %+v", data, chunks)
	}
	if m, err := s.Head(ctx); err != nil || !m.Closed {
		t.Fatalf("head after close: %+v, %v", m, err)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = s.Head(ctx)
	wantKind(t, err, durable.ErrNotFound, "tenants/7/log")
	for _, live := range []durable.LiveMode{durable.LiveOff, durable.LiveLongPoll, durable.LiveSSE, durable.LiveAuto} {
		for _, err := range s.Read(ctx, durable.ReadOptions{Offset: durable.OffsetNow, Live: live}) {
			wantKind(t, err, durable.ErrNotFound, "tenants/7/log")
		}
	}
	wantKind(t, s.Delete(ctx), durable.ErrNotFound, "tenants/7/log")
}

func TestAppendConflicts(t *testing.T) {
	_, c := setup(t)
	ctx := ctxT(t)
	s := c.Stream("conflicts").WithContentType("text/plain")
	if _, err := s.Create(ctx, durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, []byte("a"), durable.WithSeq("b")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, []byte("a"), durable.WithSeq("a"))
	wantKind(t, err, durable.ErrSeqConflict, "conflicts")
	_, err = s.WithContentType("application/json").Append(ctx, []byte(`[1]`))
	wantKind(t, err, durable.ErrContentType, "conflicts")
	_, err = s.Append(ctx, nil)
	wantKind(t, err, durable.ErrInvalidArgument, "conflicts")
	for _, bad := range []string{"", "a//b", "a/../b", "./x"} {
		_, err := c.Stream(bad).Append(ctx, []byte("x"))
		if !errors.Is(err, durable.ErrInvalidArgument) {
			t.Errorf("path %q: err %v, want ErrInvalidArgument", bad, err)
		}
	}
	_, err = s.Create(ctx, durable.CreateOptions{TTL: time.Second, ExpiresAt: time.Now().Add(time.Hour)})
	wantKind(t, err, durable.ErrInvalidArgument, "conflicts")
	for _, err := range s.Read(ctx, durable.ReadOptions{Offset: "not-an-offset"}) {
		wantKind(t, err, durable.ErrInvalidOffset, "conflicts")
		if !errors.Is(err, durable.ErrBadRequest) {
			t.Errorf("ErrInvalidOffset does not match ErrBadRequest")
		}
	}
}

func TestForkAndGone(t *testing.T) {
	_, c := setup(t)
	ctx := ctxT(t)
	src := c.Stream("fork/src").WithContentType("text/plain")
	res, err := src.Create(ctx, durable.CreateOptions{Data: []byte("abc")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Append(ctx, []byte("def")); err != nil {
		t.Fatal(err)
	}
	fork := c.Stream("fork/dst").WithContentType("text/plain")
	if _, err := fork.Create(ctx, durable.CreateOptions{ForkFrom: "fork/src", ForkOffset: res.NextOffset}); err != nil {
		t.Fatal(err)
	}
	if _, err := fork.Append(ctx, []byte("xyz")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for ch, err := range fork.Read(ctx, durable.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ch.Data...)
	}
	if string(got) != "abcxyz" {
		t.Fatalf("fork holds %q, want abcxyz", got)
	}
	_, err = c.Stream("fork/none").Create(ctx, durable.CreateOptions{ForkFrom: "fork/missing"})
	wantKind(t, err, durable.ErrNotFound, "fork/none")
	if err := src.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = src.Head(ctx)
	wantKind(t, err, durable.ErrGone, "fork/src")
}

func TestJSONMessages(t *testing.T) {
	_, c := setup(t)
	ctx := ctxT(t)
	s := c.Stream("json/orders").WithContentType("application/json")
	if _, err := s.Create(ctx, durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	type order struct {
		ID   int    `json:"id"`
		Item string `json:"item"`
	}
	for i := range 5 {
		if _, err := s.AppendJSON(ctx, order{ID: i, Item: fmt.Sprint("item ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// An array is one message.
	if _, err := s.AppendJSON(ctx, []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Close(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, live := range []durable.LiveMode{durable.LiveOff, durable.LiveLongPoll, durable.LiveSSE, durable.LiveAuto} {
		var msgs []string
		for m, err := range c.Stream("json/orders").Messages(ctx, durable.ReadOptions{Live: live}) {
			if err != nil {
				t.Fatalf("%v: %v", live, err)
			}
			msgs = append(msgs, string(m))
		}
		if len(msgs) != 6 || msgs[0] != `{"id":0,"item":"item 0"}` || msgs[5] != `[1,2]` {
			t.Fatalf("%v: messages %q", live, msgs)
		}
		n := 0
		for o, err := range durable.ReadJSON[order](ctx, s, durable.ReadOptions{Live: live}) {
			if err != nil {
				if n == 5 && errors.Is(err, durable.ErrProtocol) {
					break // the last message is an array, not an order
				}
				t.Fatalf("%v: %v", live, err)
			}
			if o.ID != n {
				t.Fatalf("%v: order %d, want %d", live, o.ID, n)
			}
			n++
		}
		if n != 5 {
			t.Fatalf("%v: %d orders", live, n)
		}
	}
}

// TestLiveFollow reads in every live mode while a writer appends, and
// checks that each mode delivers every byte once, in order, then the end.
func TestLiveFollow(t *testing.T) {
	_, c := setup(t)
	for _, live := range []durable.LiveMode{durable.LiveLongPoll, durable.LiveSSE, durable.LiveAuto} {
		t.Run(live.String(), func(t *testing.T) {
			ctx := ctxT(t)
			s := c.Stream("live/" + live.String()).WithContentType("text/plain")
			if _, err := s.Create(ctx, durable.CreateOptions{Data: []byte("0,")}); err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			want.WriteString("0,")
			done := make(chan []durable.Chunk, 1)
			go func() {
				var chunks []durable.Chunk
				for ch, err := range s.Read(ctx, durable.ReadOptions{Live: live}) {
					if err != nil {
						t.Error(err)
						break
					}
					chunks = append(chunks, ch)
				}
				done <- chunks
			}()
			for i := 1; i <= 20; i++ {
				item := fmt.Sprintf("%d,", i)
				want.WriteString(item)
				if _, err := s.Append(ctx, []byte(item)); err != nil {
					t.Fatal(err)
				}
				if i%5 == 0 {
					time.Sleep(30 * time.Millisecond)
				}
			}
			if _, err := s.Close(ctx, nil); err != nil {
				t.Fatal(err)
			}
			chunks := <-done
			var got []byte
			for _, ch := range chunks {
				got = append(got, ch.Data...)
			}
			if string(got) != want.String() {
				t.Fatalf("read %q, want %q", got, want.String())
			}
			last := chunks[len(chunks)-1]
			if !last.Closed || !last.UpToDate {
				t.Fatalf("last chunk %+v, want closed", last)
			}
			if live != durable.LiveOff && last.Cursor == "" && len(chunks) > 1 && chunks[len(chunks)-2].Cursor == "" {
				t.Errorf("no cursor reported by a live read")
			}
		})
	}
}

func TestBinarySSE(t *testing.T) {
	_, c := setup(t)
	ctx := ctxT(t)
	s := c.Stream("bin")
	var want []byte
	if _, err := s.Create(ctx, durable.CreateOptions{ContentType: "application/octet-stream"}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		b := []byte{0, 1, 2, 0xff, byte(i), '\n', '\r'}
		want = append(want, b...)
		if _, err := s.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Close(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := collect(t, ctx, s, durable.ReadOptions{Live: durable.LiveSSE})
	if !bytes.Equal(got, want) {
		t.Fatalf("SSE read % x, want % x", got, want)
	}
}

// TestResumeOffsets saves a chunk's offset and cursor and resumes from them
// with another read, which continues exactly after it.
func TestResumeOffsets(t *testing.T) {
	_, c := setup(t)
	ctx := ctxT(t)
	s := c.Stream("resume").WithContentType("text/plain")
	if _, err := s.Create(ctx, durable.CreateOptions{Data: []byte("ab")}); err != nil {
		t.Fatal(err)
	}
	var saved durable.Chunk
	for ch, err := range s.Read(ctx, durable.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		saved = ch
	}
	if _, err := s.Append(ctx, []byte("cd")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Close(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, live := range []durable.LiveMode{durable.LiveOff, durable.LiveLongPoll, durable.LiveSSE} {
		got, _ := collect(t, ctx, s, durable.ReadOptions{Offset: saved.NextOffset, Cursor: saved.Cursor, Live: live})
		if string(got) != "cd" {
			t.Fatalf("%v: resumed read %q, want cd", live, got)
		}
	}
	// From now on a closed stream: only the end.
	got, chunks := collect(t, ctx, s, durable.ReadOptions{Offset: durable.OffsetNow, Live: durable.LiveSSE})
	if len(got) != 0 || len(chunks) != 1 || !chunks[0].Closed {
		t.Fatalf("read from now: %q %+v", got, chunks)
	}
}

// TestHeaderFunc checks that the header function is called on every
// request, retries included, and that its headers are sent.
func TestHeaderFunc(t *testing.T) {
	var calls atomic.Int32
	srv, c := setup(t,
		durable.WithHeader("X-Static", "1"),
		durable.WithHeaderFunc(func(ctx context.Context) (http.Header, error) {
			n := calls.Add(1)
			return http.Header{"Authorization": {fmt.Sprintf("Bearer token-%d", n)}}, nil
		}))
	ctx := ctxT(t)
	s := c.Stream("auth").WithContentType("text/plain")
	if _, err := s.Create(ctx, durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	srv.Inject(t, dstest.Fault{Path: "/auth", Method: http.MethodHead, Status: 503, Count: 2})
	if _, err := s.Head(ctx); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 4 {
		t.Fatalf("header function called %d times for 4 requests (1 create, 3 HEAD attempts)", n)
	}
}

// fastRetry retries like the default, with short waits.
func fastRetry() runtime.RetryPolicy {
	p := durable.DefaultRetry()
	p.BaseDelay, p.MaxDelay = 10*time.Millisecond, 2*time.Second
	return p
}

// TestNewRefusesBadOptions: a negative retry count, delay or timeout, and a
// MaxDelay below the BaseDelay, are refused by New with
// ErrInvalidArgument naming the option; zero delays take the defaults (a
// BaseDelay no larger than the MaxDelay given).
func TestNewRefusesBadOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		opt  durable.Option
		word string
	}{
		"retries":  {durable.WithRetry(runtime.RetryPolicy{MaxRetries: -1}), "MaxRetries"},
		"base":     {durable.WithRetry(runtime.RetryPolicy{BaseDelay: -time.Second}), "BaseDelay"},
		"max":      {durable.WithRetry(runtime.RetryPolicy{MaxDelay: -time.Second}), "MaxDelay"},
		"max<base": {durable.WithRetry(runtime.RetryPolicy{BaseDelay: time.Second, MaxDelay: time.Millisecond}), "MaxDelay"},
		"timeout":  {durable.WithTimeout(-time.Second), "timeout"},
	} {
		_, err := durable.New("http://127.0.0.1:1", tc.opt)
		if !errors.Is(err, durable.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.word) {
			t.Errorf("%s: %v, want ErrInvalidArgument naming %s", name, err, tc.word)
		}
	}
	for _, p := range []runtime.RetryPolicy{{MaxRetries: 2}, {MaxDelay: time.Millisecond}, {BaseDelay: time.Minute}} {
		if _, err := durable.New("http://127.0.0.1:1", durable.WithRetry(p)); err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
	}
}

// TestLargeChunks: the reference server answers a read from the start
// with the whole stream, here 70 MiB, more than the runtime's default
// response limit (64 MiB): the client takes it, up to WithMaxChunkBytes,
// and a response or SSE event over that limit fails the read with
// ErrTooLarge at once, not as a dropped connection retried.
func TestLargeChunks(t *testing.T) {
	srv, c := setup(t)
	s := c.Stream("large").WithContentType("application/octet-stream")
	if _, err := s.Create(ctxT(t), durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("L"), 1<<20)
	for range 70 {
		if _, err := s.Append(ctxT(t), chunk); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for ch, err := range s.Read(ctxT(t), durable.ReadOptions{}) {
		if err != nil {
			t.Fatalf("after %d bytes: %v", n, err)
		}
		n += len(ch.Data)
	}
	if n != 70<<20 {
		t.Fatalf("read %d bytes, want %d", n, 70<<20)
	}

	small, err := durable.New(srv.URL, durable.WithRetry(fastRetry()), durable.WithMaxChunkBytes(1<<20)) // below an SSE event of 1 MiB in base64
	if err != nil {
		t.Fatal(err)
	}
	for _, live := range []durable.LiveMode{durable.LiveOff, durable.LiveSSE} {
		failed := false
		for _, err := range small.Stream("large").WithContentType("application/octet-stream").Read(ctxT(t), durable.ReadOptions{Live: live}) {
			if err != nil {
				wantKind(t, err, durable.ErrTooLarge, "large")
				failed = true
				break
			}
		}
		if !failed {
			t.Fatalf("%v: read under a 1 MiB limit ended without an error", live)
		}
	}
	// Over SSE the reference server sends one data event per append, then
	// one control event: eight events of 1 MiB fit under a 2 MiB limit
	// each, and not together.
	events := c.Stream("large-events").WithContentType("application/octet-stream")
	if _, err := events.Create(ctxT(t), durable.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 8 {
		if _, err := events.Append(ctxT(t), chunk); err != nil {
			t.Fatal(err)
		}
	}
	two, err := durable.New(srv.URL, durable.WithRetry(fastRetry()), durable.WithMaxChunkBytes(2<<20))
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for _, err := range two.Stream("large-events").WithContentType("application/octet-stream").Read(ctxT(t), durable.ReadOptions{Live: durable.LiveSSE}) {
		if last = err; err != nil {
			break
		}
	}
	wantKind(t, last, durable.ErrTooLarge, "large-events")
	if _, err := durable.New(srv.URL, durable.WithMaxChunkBytes(-1)); !errors.Is(err, durable.ErrInvalidArgument) {
		t.Fatalf("negative max chunk bytes: %v", err)
	}
}
