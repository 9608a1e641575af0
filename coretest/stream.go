package coretest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// hub fans newly stored events out to WebSocket clients. Each client has
// a bounded buffer of positions; when it is full, further events are
// counted as missed and the client is told with a lagged frame, as Core's
// broadcast channel does (reference §5.7).
type hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
	wg     sync.WaitGroup // running stream handlers
}

type subscriber struct {
	ch     chan int32
	missed atomic.Int64
	drop   chan struct{}
	once   sync.Once
}

func (sub *subscriber) dropNow() { sub.once.Do(func() { close(sub.drop) }) }

func newHub() *hub { return &hub{subs: make(map[*subscriber]struct{})} }

// subscribe adds a client with a buffer of n events; it returns nil once
// the hub is closed.
func (h *hub) subscribe(n int) *subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	sub := &subscriber{ch: make(chan int32, n), drop: make(chan struct{})}
	h.subs[sub] = struct{}{}
	h.wg.Add(1)
	return sub
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		h.wg.Done()
	}
}

// publish offers the 0-based positions [first, last) to every client.
func (h *hub) publish(first, last int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		for p := first; p < last; p++ {
			select {
			case sub.ch <- int32(p):
			default:
				sub.missed.Add(int64(last - p))
				p = last
			}
		}
	}
}

// dropAll drops every client without a close frame.
func (h *hub) dropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		sub.dropNow()
	}
}

// wait refuses new clients and waits for the stream handlers to end, or
// for ctx.
func (h *hub) wait(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeAll drops every client, refuses new ones and waits for the stream
// handlers to end.
func (h *hub) closeAll() {
	h.mu.Lock()
	h.closed = true
	for sub := range h.subs {
		sub.dropNow()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// liveFilter is a connection's live filter (reference §5.7).
type liveFilter struct {
	entityID  *string
	eventType *string
	prefixes  []string
}

// matches applies the WebSocket grammar: "x.*" requires "x." as a prefix
// (bare x does not match, unlike the consumer registry); other entries are
// exact.
func (f *liveFilter) matches(ev *wireEvent) bool {
	if f.entityID != nil && ev.EntityID != *f.entityID {
		return false
	}
	if f.eventType != nil && ev.EventType != *f.eventType {
		return false
	}
	if len(f.prefixes) == 0 {
		return true
	}
	for _, p := range f.prefixes {
		if base, ok := strings.CutSuffix(p, "*"); ok && strings.HasSuffix(base, ".") {
			if strings.HasPrefix(ev.EventType, base) {
				return true
			}
		} else if ev.EventType == p {
			return true
		}
	}
	return false
}

// subscribeFrame is the client's {"type":"subscribe","filters":[...]}.
type subscribeFrame struct {
	Type    string   `json:"type"`
	Filters []string `json:"filters"`
}

// legacyFrame is the client's legacy filter object.
type legacyFrame struct {
	EntityID  *string   `json:"entity_id"`
	EventType *string   `json:"event_type"`
	Prefixes  *[]string `json:"event_type_prefixes"`
}

// parseClientFrame applies a client text frame to f, as Core tries its
// message forms in turn: a subscribe frame sets prefix filters and clears
// the exact type; otherwise an object that reads as the legacy filter
// replaces every filter; anything else is ignored.
func parseClientFrame(data []byte, f *liveFilter) {
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' {
		return // not an object (Go would read null as an empty struct)
	}
	var sub subscribeFrame
	if json.Unmarshal(data, &sub) == nil && sub.Type == "subscribe" {
		f.prefixes = sub.Filters
		f.eventType = nil
		return
	}
	var legacy legacyFrame
	if err := json.Unmarshal(data, &legacy); err != nil {
		return
	}
	*f = liveFilter{entityID: legacy.EntityID, eventType: legacy.EventType}
	if legacy.Prefixes != nil {
		f.prefixes = *legacy.Prefixes
	}
}

// streamConn is one WebSocket client.
type streamConn struct {
	s       *Server
	c       *websocket.Conn
	conn    *corkConn // the connection under c
	sub     *subscriber
	dropAt  int // drop after this many frames; 0 = never
	sent    int
	mu      sync.Mutex // guards filter
	filter  liveFilter
	dropped bool
}

var errDropped = errors.New("stream dropped by fault injection")

// write sends one text frame, applying DropStreamAfter. It writes without
// a context: a cancellable one costs a timer registration per frame, and
// the connection is closed by the handler's watcher when the stream ends.
func (sc *streamConn) write(b []byte) error {
	if sc.s.specs != nil {
		sc.s.specs.checkFrame(b)
	}
	if err := sc.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		return err
	}
	sc.sent++
	if sc.dropAt > 0 && sc.sent >= sc.dropAt {
		sc.dropped = true
		_ = sc.conn.uncork() // the frames counted must reach the client
		return errDropped
	}
	return nil
}

// handleStream serves GET /api/v1/events/stream (reference §5.7).
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request, _ *caller) {
	consumerID, durable := r.URL.Query()["consumer_id"]
	sub := s.hub.subscribe(s.cfg.streamBuffer)
	if sub == nil {
		writeText(w, http.StatusServiceUnavailable, "Server shutting down")
		return
	}
	defer s.hub.unsubscribe(sub)
	cw := &corkingWriter{ResponseWriter: w}
	c, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // any origin, as Core's CORS layer allows
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		select {
		case <-sub.drop:
			c.CloseNow()
			cancel()
		case <-ctx.Done():
		}
	}()
	sc := &streamConn{s: s, c: c, conn: cw.conn, sub: sub, dropAt: s.faults.takeStreamDrop()}
	s.streamsMu.Lock()
	s.streams[sc] = struct{}{}
	s.streamsMu.Unlock()
	defer func() {
		s.streamsMu.Lock()
		delete(s.streams, sc)
		s.streamsMu.Unlock()
	}()
	if durable && len(consumerID) > 0 {
		if err := sc.replay(ctx, consumerID[0]); err != nil {
			sc.finish(err)
			return
		}
	}
	// The reader has a context of its own: a Read whose context ends closes
	// the connection at once, which would cut the going-away close frame
	// that finish sends on shutdown.
	readCtx, stopRead := context.WithCancel(context.Background())
	defer stopRead()
	go sc.readLoop(readCtx, cancel)
	sc.finish(sc.live(ctx))
}

// finish closes the connection the way err calls for.
func (sc *streamConn) finish(err error) {
	if uerr := sc.conn.uncork(); uerr != nil && err == nil {
		err = uerr
	}
	switch {
	case sc.dropped:
		sc.c.CloseNow()
	case sc.s.ctx.Err() != nil:
		_ = sc.c.Close(websocket.StatusGoingAway, "server shutting down")
	case err != nil:
		sc.c.CloseNow()
	}
}

// replay sends the consumer's events after its cursor, then the sentinel,
// and sets the live filters from the consumer's filters. Live events that
// arrive meanwhile wait in the subscriber's buffer.
func (sc *streamConn) replay(ctx context.Context, consumerID string) error {
	snap, err := sc.s.getConsumer(consumerID)
	if err != nil {
		return err
	}
	st := sc.s.store
	st.mu.RLock()
	end := st.n
	mask := st.typeMask(func(t string) bool { return consumerFilterMatches(snap.EventTypeFilters, t) })
	st.mu.RUnlock()
	pos := 0
	if snap.CursorPosition != nil {
		pos = int(*snap.CursorPosition)
	}
	replayed := 0
	frames := make([][]byte, 0, 256)
	buf := make([]byte, 0, 256*256)
	for pos < end {
		if err := ctx.Err(); err != nil {
			return err
		}
		frames, buf = frames[:0], buf[:0]
		st.mu.RLock()
		for ; pos < end && len(frames) < cap(frames); pos++ {
			r := st.rec(pos)
			if int(r.typ) < len(mask) && !mask[r.typ] {
				continue
			}
			if int(r.typ) >= len(mask) && !consumerFilterMatches(snap.EventTypeFilters, st.types[r.typ].name) {
				continue
			}
			ev := st.event(pos)
			start := len(buf)
			buf = append(buf, `{"type":"replay","position":`...)
			buf = appendInt(buf, int64(pos)+1)
			buf = append(buf, `,"event":`...)
			buf = appendEventJSON(buf, &ev)
			buf = append(buf, '}')
			frames = append(frames, buf[start:len(buf):len(buf)])
		}
		st.mu.RUnlock()
		sc.conn.cork()
		for _, f := range frames {
			if err := sc.write(f); err != nil {
				return err
			}
			replayed++
		}
		if err := sc.conn.uncork(); err != nil {
			return err
		}
	}
	b := append([]byte(`{"type":"replay_complete","replayed":`), appendInt(nil, int64(replayed))...)
	if err := sc.write(append(b, '}')); err != nil {
		return err
	}
	sc.mu.Lock()
	sc.filter = liveFilter{prefixes: snap.EventTypeFilters}
	sc.mu.Unlock()
	return nil
}

// readLoop applies client frames to the live filter until the connection
// ends, then cancels the stream through done.
func (sc *streamConn) readLoop(ctx context.Context, done context.CancelFunc) {
	defer done()
	for {
		typ, data, err := sc.c.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		if sc.s.specs != nil {
			sc.s.specs.checkClientFrame(data)
		}
		sc.mu.Lock()
		parseClientFrame(data, &sc.filter)
		sc.mu.Unlock()
	}
}

// live sends live events until the connection ends.
func (sc *streamConn) live(ctx context.Context) error {
	cfg := &sc.s.cfg
	var tick <-chan time.Time
	if cfg.batchInterval > 0 {
		t := time.NewTicker(cfg.batchInterval)
		defer t.Stop()
		tick = t.C
	}
	var batch []byte
	pending := 0
	flush := func() error {
		if pending == 0 {
			return nil
		}
		batch = append(batch, ']')
		err := sc.write(batch)
		batch, pending = batch[:0], 0
		return err
	}
	var frame []byte
	for {
		if len(sc.sub.ch) == 0 {
			// Never wait for events with frames held back.
			if err := sc.conn.uncork(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			if err := flush(); err != nil {
				return err
			}
			continue
		case pos := <-sc.sub.ch:
			if len(sc.sub.ch) > 0 {
				sc.conn.cork() // a backlog: send it in few writes
			}
			st := sc.s.store
			st.mu.RLock()
			ev := st.event(int(pos))
			sc.mu.Lock()
			ok := sc.filter.matches(&ev)
			sc.mu.Unlock()
			if ok {
				if tick != nil {
					if pending == 0 {
						batch = append(batch[:0], '[')
					} else {
						batch = append(batch, ',')
					}
					batch = appendEventJSON(batch, &ev)
					pending++
				} else {
					frame = appendEventJSON(frame[:0], &ev)
				}
			}
			st.mu.RUnlock()
			if ok && tick == nil {
				if err := sc.write(frame); err != nil {
					return err
				}
			}
			if pending >= cfg.batchMax && tick != nil {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if len(sc.sub.ch) == 0 {
			if missed := sc.sub.missed.Swap(0); missed > 0 {
				if err := flush(); err != nil {
					return err
				}
				b := append([]byte(`{"type":"lagged","missed":`), appendInt(nil, missed)...)
				if err := sc.write(append(b, '}')); err != nil {
					return err
				}
			}
		}
	}
}

// StreamClients returns the number of open WebSocket streams, counting
// from when the upgrade was accepted. Tests use it to wait until a client
// is connected before storing the events it should see live.
func (s *Server) StreamClients() int {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	return len(s.streams)
}
