// Package pubsub_test runs the generated PubSub client (examples/pubsub/client,
// generated from pubsub.yaml) against a small in-test server: publish an event
// for later, cancel another, subscribe and receive the latest events first,
// then the live ones, then resume from the last event ID.
package pubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	pubsub "github.com/allsource-go/allsource/examples/pubsub/client"
	"github.com/allsource-go/allsource/runtime"
)

// server is an in-memory PubSub server: events are delivered when their
// time comes, in order, to every subscriber of their topic.
type server struct {
	mu        sync.Mutex
	seq       int
	events    []*pubsub.Event // all published, in publication order
	delivered []*pubsub.Event // delivered, in delivery order
	cancelled map[string]bool // ids cancelled before delivery
	wake      chan struct{}   // closed and replaced on every change
}

func newServer() *server {
	return &server{cancelled: map[string]bool{}, wake: make(chan struct{})}
}

func (s *server) changed() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// deliver moves the events whose time has come to delivered and returns how
// long until the next one is due (0 when none is pending).
func (s *server) deliver(now time.Time) time.Duration {
	var next time.Duration
	for _, e := range s.events {
		if s.cancelled[e.ID] || slices.Contains(s.delivered, e) {
			continue
		}
		if !e.DeliverAt.After(now) {
			s.delivered = append(s.delivered, e)
			continue
		}
		if d := e.DeliverAt.Sub(now); next == 0 || d < next {
			next = d
		}
	}
	return next
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /topics/{topic}/events", func(w http.ResponseWriter, r *http.Request) {
		var req pubsub.PublishRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.seq++
		e := &pubsub.Event{ID: strconv.Itoa(s.seq), Topic: r.PathValue("topic"), Data: req.Data, DeliverAt: req.DeliverAt.Or(time.Now())}
		s.events = append(s.events, e)
		s.deliver(time.Now())
		s.changed()
		s.mu.Unlock()
		w.Header().Set("Location", "/topics/"+e.Topic+"/events/"+e.ID)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(e)
	})
	mux.HandleFunc("DELETE /topics/{topic}/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		id := r.PathValue("id")
		if slices.ContainsFunc(s.delivered, func(e *pubsub.Event) bool { return e.ID == id }) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"error":"already delivered"}`))
			return
		}
		s.cancelled[id] = true
		s.changed()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /topics/{topic}/events", func(w http.ResponseWriter, r *http.Request) {
		topic := r.PathValue("topic")
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		flush := w.(http.Flusher).Flush
		send := func(typ, id string, v any) {
			data, _ := json.Marshal(v)
			fmt.Fprintf(w, "event: %s\nid: %s\ndata: %s\n\n", typ, id, data)
		}
		fmt.Fprint(w, ": welcome\nevent: hello\ndata: unknown to the document\n\n")
		s.mu.Lock()
		var mine []*pubsub.Event
		for _, e := range s.delivered {
			if e.Topic == topic {
				mine = append(mine, e)
			}
		}
		sent := len(mine)
		start := 0
		if last := r.Header.Get("Last-Event-ID"); last != "" {
			start = slices.IndexFunc(mine, func(e *pubsub.Event) bool { return e.ID == last }) + 1
		} else if n, err := strconv.Atoi(r.URL.Query().Get("latest")); err == nil && n < len(mine) {
			start = len(mine) - n
		}
		for _, e := range mine[start:] {
			send("event", e.ID, e)
		}
		seenCancel := map[string]bool{}
		for id := range s.cancelled {
			seenCancel[id] = true
		}
		s.mu.Unlock()
		flush()
		for {
			s.mu.Lock()
			next := s.deliver(time.Now())
			for id := range s.cancelled {
				if !seenCancel[id] {
					seenCancel[id] = true
					send("cancelled", id, pubsub.Cancellation{ID: id})
				}
			}
			var fresh []*pubsub.Event
			for _, e := range s.delivered {
				if e.Topic == topic {
					fresh = append(fresh, e)
				}
			}
			for _, e := range fresh[sent:] {
				send("event", e.ID, e)
			}
			sent = len(fresh)
			wake := s.wake
			s.mu.Unlock()
			flush()
			var timer <-chan time.Time
			if next > 0 {
				timer = time.After(next)
			}
			select {
			case <-r.Context().Done():
				return
			case <-wake:
			case <-timer:
			}
		}
	})
	return mux
}

func TestPublishCancelSubscribe(t *testing.T) {
	srv := httptest.NewServer(newServer().handler())
	t.Cleanup(srv.Close)
	c, err := pubsub.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Three events now, one for later, one to cancel.
	for _, v := range []string{`"one"`, `"two"`, `"three"`} {
		if _, err := c.Publish(ctx, "news", pubsub.PublishRequest{Data: json.RawMessage(v)}); err != nil {
			t.Fatal(err)
		}
	}
	later, err := c.Publish(ctx, "news", pubsub.PublishRequest{Data: json.RawMessage(`"later"`), DeliverAt: runtime.Some(time.Now().Add(300 * time.Millisecond))})
	if err != nil {
		t.Fatal(err)
	}
	if later.StatusCode != http.StatusCreated || later.Location != "/topics/news/events/"+later.Body.ID {
		t.Fatalf("publish result %+v", later)
	}
	doomed, err := c.Publish(ctx, "news", pubsub.PublishRequest{Data: json.RawMessage(`"never"`), DeliverAt: runtime.Some(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}

	// Subscribe with the latest two: "two" and "three" first, then live.
	var got []string
	var ids []string
	sawUnknown, sawCancel := false, false
	for ev, err := range c.Subscribe(ctx, "news", pubsub.SubscribeParams{Latest: runtime.Some[int64](2)}) {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.Event != nil:
			got = append(got, string(ev.Event.Data))
			ids = append(ids, ev.ID)
			if len(got) == 2 {
				// Cancel the far-future event while subscribed.
				if err := c.Cancel(ctx, "news", doomed.Body.ID); err != nil {
					t.Fatal(err)
				}
			}
		case ev.Cancelled != nil:
			sawCancel = ev.Cancelled.ID == doomed.Body.ID
		default:
			sawUnknown = ev.Type == "hello" && ev.Raw == "unknown to the document"
		}
		if len(got) == 3 {
			break
		}
	}
	want := []string{`"two"`, `"three"`, `"later"`}
	if !slices.Equal(got, want) || !sawUnknown || !sawCancel {
		t.Fatalf("got %v (unknown event seen: %v, cancellation seen: %v), want %v", got, sawUnknown, sawCancel, want)
	}

	// A delivered event can no longer be cancelled.
	err = c.Cancel(ctx, "news", later.Body.ID)
	var apiErr *runtime.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict {
		t.Fatalf("cancel after delivery: %v", err)
	}

	// Resume after "three" with its event ID: "later" comes next.
	for ev, err := range c.Subscribe(ctx, "news", pubsub.SubscribeParams{LastEventID: runtime.Some(ids[1])}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Event != nil {
			if string(ev.Event.Data) != `"later"` || ev.ID != ids[2] {
				t.Fatalf("resumed at %s %s, want %s", ev.ID, ev.Event.Data, ids[2])
			}
			break
		}
	}
}
