package allsource_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/runtime"
)

func ingestN(t *testing.T, c allsource.CoreClient, typ, entity string, n int) {
	t.Helper()
	for i := range n {
		if _, err := c.Ingest(context.Background(), allsource.NewEvent{Type: typ, EntityID: entity, Payload: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
}

func waitClients(t *testing.T, srv *coretest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.StreamClients() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d stream clients, want %d", srv.StreamClients(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Durable mode (reference §5.7): replay after the cursor, replay_complete,
// then bare live events.
func TestStreamDurableReplayThenLive(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ingestN(t, c, "asset.registered", "a-1", 3)
	ingestN(t, c, "trade.created", "t-1", 2)
	if _, err := c.RegisterConsumer(ctx, "assets", []string{"asset.*"}); err != nil {
		t.Fatal(err)
	}
	s, err := c.Subscribe(ctx, allsource.StreamOptions{ConsumerID: "assets"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var positions []int64
	for len(positions) < 3 {
		f, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := f.(core.StreamReplay)
		if !ok {
			t.Fatalf("frame %T before replay ended", f)
		}
		if r.Event.EventType != "asset.registered" {
			t.Fatalf("replayed %q, not matching the consumer's filter", r.Event.EventType)
		}
		positions = append(positions, r.Position)
	}
	if positions[0] != 1 || positions[2] != 3 {
		t.Fatalf("positions = %v, want 1..3", positions)
	}
	f, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rc, ok := f.(core.StreamReplayComplete); !ok || rc.Replayed != 3 {
		t.Fatalf("frame = %#v, want replay_complete of 3", f)
	}
	ingestN(t, c, "asset.updated", "a-1", 1)
	f, err = s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live, ok := f.(core.StreamEvent)
	if !ok || live.EventType != "asset.updated" || live.Version != 4 {
		t.Fatalf("live frame = %#v", f)
	}
}

// Live mode with a subscribe frame: "x.*" needs "x." (reference §5.7).
func TestStreamLiveFilters(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Subscribe(ctx, allsource.StreamOptions{Filters: []string{"order.*"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitClients(t, srv, 1)
	// The subscribe frame takes effect asynchronously: send a non-matching
	// and a matching event until a round passes with only the matching one.
	for synced := false; !synced; {
		ingestN(t, c, "user.sync", "sync", 1)
		ingestN(t, c, "order.sync", "sync", 1)
		synced = true
		for {
			f, err := s.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if e := f.(core.StreamEvent); e.EventType == "order.sync" {
				break
			}
			synced = false
		}
	}
	ingestN(t, c, "order", "o-1", 1)        // bare "order" does not match "order.*" live
	ingestN(t, c, "user.created", "u-1", 1) // other type
	ingestN(t, c, "order.placed", "o-1", 1)
	f, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := f.(core.StreamEvent); !ok || e.EventType != "order.placed" {
		t.Fatalf("frame = %#v, want order.placed only", f)
	}
}

func TestStreamRejectsFilterThatMatchesNothing(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	_, err := c.Subscribe(context.Background(), allsource.StreamOptions{Filters: []string{"asset."}})
	if !errors.Is(err, allsource.ErrInvalidArgument) {
		t.Fatalf("err = %v, want ErrInvalidArgument", err)
	}
	if srv.StreamClients() != 0 {
		t.Fatal("a connection was made for an invalid filter")
	}
}

func TestStreamHandshakeNeedsCredentials(t *testing.T) {
	srv := newServer(t)
	c, err := allsource.NewCoreClient(srv.URL, "ask_wrong-key")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Subscribe(context.Background(), allsource.StreamOptions{})
	var se *allsource.StreamError
	if !errors.As(err, &se) || se.Op != "dial" {
		t.Fatalf("err = %v, want a dial *StreamError", err)
	}
	if want := "ask_wrong-key"; containsString(err.Error(), want) {
		t.Fatalf("error leaks the key: %v", err)
	}
}

func TestStreamLiveBatchFrames(t *testing.T) {
	srv := newServer(t, coretest.WithLiveBatching(20*time.Millisecond, 100))
	c := newCore(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Subscribe(ctx, allsource.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitClients(t, srv, 1)
	if _, err := c.IngestBatch(ctx, []allsource.NewEvent{
		{Type: "x.a", EntityID: "e", Payload: 1}, {Type: "x.b", EntityID: "e", Payload: 2},
	}); err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < 2 {
		f, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch f := f.(type) {
		case core.StreamEventBatch:
			got += len(f.EventBatch)
		case core.StreamEvent:
			got++
		default:
			t.Fatalf("unexpected frame %T", f)
		}
	}
}

func TestStreamCloseAndEOF(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := c.Subscribe(ctx, allsource.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(ctx); !errors.Is(err, allsource.ErrStreamClosed) {
		t.Fatalf("Next after Close = %v", err)
	}

	s2, err := c.Subscribe(ctx, allsource.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitClients(t, srv, 1)
	srv.DropStreams()
	_, err = s2.Next(ctx)
	if err == nil || errors.Is(err, allsource.ErrStreamClosed) {
		t.Fatalf("Next after the server dropped us = %v", err)
	}
	if !errors.Is(err, io.EOF) {
		var se *allsource.StreamError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v, want io.EOF or *StreamError", err)
		}
	}
}

// A dropped durable stream reconnects and Core replays from the cursor.
func TestStreamReconnectReplaysFromCursor(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ingestN(t, c, "job.done", "j", 5)
	if _, err := c.RegisterConsumer(ctx, "jobs", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.AckConsumer(ctx, "jobs", 2); err != nil {
		t.Fatal(err)
	}
	reconnects := 0
	srv.DropStreamAfter(2) // the first connection dies after two replay frames
	s, err := c.Subscribe(ctx, allsource.StreamOptions{
		ConsumerID: "jobs", Reconnect: true, ReconnectMin: time.Millisecond, ReconnectMax: 5 * time.Millisecond,
		OnReconnect: func(int, error) { reconnects++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var seen []int64
	completes := 0
	for completes < 1 {
		f, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch f := f.(type) {
		case core.StreamReplay:
			seen = append(seen, f.Position)
		case core.StreamReplayComplete:
			completes++
		}
	}
	if reconnects < 1 {
		t.Fatalf("no reconnect happened (positions %v)", seen)
	}
	if fmt.Sprint(seen[len(seen)-3:]) != "[3 4 5]" || seen[0] != 3 {
		t.Fatalf("positions = %v, want replay from 3 (the cursor is 2), repeated after the reconnect", seen)
	}
}

// A key sent as a query parameter must not appear in a handshake error.
func TestStreamDialErrorHidesQueryKey(t *testing.T) {
	srv := newServer(t)
	const secret = "ask_query-secret-42"
	c, err := allsource.NewCoreClient(srv.URL, "", allsource.WithRuntimeOptions(runtime.WithAPIKeyQuery("api_key", secret)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Close() // the dial fails and the error names the URL
	_, err = c.Subscribe(context.Background(), allsource.StreamOptions{ConsumerID: "c"})
	if err == nil {
		t.Fatal("dial to a closed server succeeded")
	}
	if containsString(err.Error(), secret) {
		t.Fatalf("error leaks the key: %v", err)
	}
	if !containsString(err.Error(), "consumer_id=c") {
		t.Fatalf("error lost the URL: %v", err)
	}
}

// A Next whose context expires returns the context's error and leaves the
// stream usable: the next call reads on, without Reconnect.
func TestStreamNextWithExpiredContextKeepsTheStream(t *testing.T) {
	srv := newServer(t)
	c := newCore(t, srv)
	s, err := c.Subscribe(context.Background(), allsource.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitClients(t, srv, 1)
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with an expiring context = %v, want DeadlineExceeded", err)
	}
	ingestN(t, c, "user.created", "u-1", 1)
	ctx, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	f, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next after an expired one = %v, want the event", err)
	}
	if ev, ok := f.(core.StreamEvent); !ok || ev.EntityID != "u-1" {
		t.Fatalf("frame %#v, want the live event of u-1", f)
	}
}
