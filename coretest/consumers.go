package coretest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// consumer is a durable consumer (reference §5.6).
type consumer struct {
	id      string
	filters []string
	cursor  int64 // -1 = never acknowledged (null on the wire)
}

// consumerRegistry holds the durable consumers.
type consumerRegistry struct {
	mu sync.Mutex
	m  map[string]*consumer
}

func newConsumerRegistry() *consumerRegistry {
	return &consumerRegistry{m: make(map[string]*consumer)}
}

// snapshot is a copy of a consumer's state.
type consumerSnapshot struct {
	ConsumerID       string   `json:"consumer_id"`
	EventTypeFilters []string `json:"event_type_filters"`
	CursorPosition   *int64   `json:"cursor_position"`
}

func (c *consumer) snapshot() consumerSnapshot {
	s := consumerSnapshot{ConsumerID: c.id, EventTypeFilters: append([]string{}, c.filters...)}
	if c.cursor >= 0 {
		v := c.cursor
		s.CursorPosition = &v
	}
	return s
}

// register creates id or replaces its filters, keeping its cursor.
func (r *consumerRegistry) register(id string, filters []string) consumerSnapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.m[id]
	if c == nil {
		c = &consumer{id: id, cursor: -1}
		r.m[id] = c
	}
	c.filters = append([]string{}, filters...)
	return c.snapshot()
}

// get returns id, creating it with no filters when absent. created
// reports whether it was created.
func (r *consumerRegistry) get(id string) (snap consumerSnapshot, created bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.m[id]
	if c == nil {
		c = &consumer{id: id, cursor: -1}
		r.m[id] = c
		created = true
	}
	return c.snapshot(), created
}

// ack moves id's cursor forward to pos; a lower or equal position is a
// no-op, no cursor counting as 0, so an ack of 0 leaves a new consumer's
// cursor null (reference §14 #3). It reports whether the cursor moved and
// returns the snapshot.
func (r *consumerRegistry) ack(id string, pos int64) (consumerSnapshot, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.m[id]
	if c == nil {
		c = &consumer{id: id, cursor: -1}
		r.m[id] = c
	}
	moved := pos > max(c.cursor, 0)
	if moved {
		c.cursor = pos
	}
	return c.snapshot(), moved
}

// restore sets a consumer's state from the data directory.
func (r *consumerRegistry) restore(s consumerSnapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := &consumer{id: s.ConsumerID, filters: s.EventTypeFilters, cursor: -1}
	if s.CursorPosition != nil {
		c.cursor = *s.CursorPosition
	}
	r.m[c.id] = c
}

// all returns every consumer, sorted by id.
func (r *consumerRegistry) all() []consumerSnapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]consumerSnapshot, 0, len(r.m))
	for _, c := range r.m {
		out = append(out, c.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ConsumerID < out[j].ConsumerID })
	return out
}

// consumerFilterMatches is the registry's filter grammar (reference §5.6):
// "x.*" matches x and any type starting with "x."; other entries match
// exactly; no entries match everything.
func consumerFilterMatches(filters []string, eventType string) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if base, ok := strings.CutSuffix(f, ".*"); ok {
			if eventType == base || strings.HasPrefix(eventType, base+".") {
				return true
			}
		} else if f == eventType {
			return true
		}
	}
	return false
}

// typeMask evaluates match for every interned type. The caller holds the
// store lock.
func (s *store) typeMask(match func(string) bool) []bool {
	mask := make([]bool, len(s.types))
	for i := range s.types {
		mask[i] = match(s.types[i].name)
	}
	return mask
}

// consumerEvents returns up to limit 0-based positions after cursor (a
// 1-based position, -1 for none) whose type passes filters. The caller
// holds the store lock.
func (s *store) consumerEvents(cursor int64, filters []string, limit int) []int32 {
	mask := s.typeMask(func(t string) bool { return consumerFilterMatches(filters, t) })
	var out []int32
	for pos := int(max(cursor, 0)); pos < s.n && len(out) < limit; pos++ {
		if mask[s.rec(pos).typ] {
			out = append(out, int32(pos))
		}
	}
	return out
}

// handleRegisterConsumer serves POST /api/v1/consumers: get-or-create,
// replacing the filters and keeping the cursor.
func (s *Server) handleRegisterConsumer(w http.ResponseWriter, r *http.Request, _ *caller) {
	var req struct {
		ConsumerID       *string  `json:"consumer_id"`
		EventTypeFilters []string `json:"event_type_filters"`
	}
	if !readJSONBody(w, r, &req, consumerMembers) {
		return
	}
	if req.ConsumerID == nil {
		missingFieldRejection(w, "consumer_id")
		return
	}
	snap := s.consumers.register(*req.ConsumerID, req.EventTypeFilters)
	if err := s.persistConsumer(snap); err != nil {
		writeError(w, http.StatusInternalServerError, "Storage error: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

// getConsumer is get-or-create, persisting a created consumer.
func (s *Server) getConsumer(id string) (consumerSnapshot, error) {
	snap, created := s.consumers.get(id)
	if created {
		if err := s.persistConsumer(snap); err != nil {
			return snap, err
		}
	}
	return snap, nil
}

// handleGetConsumer serves GET /api/v1/consumers/{consumer_id}; it never
// returns 404.
func (s *Server) handleGetConsumer(w http.ResponseWriter, r *http.Request, _ *caller) {
	snap, err := s.getConsumer(r.PathValue("consumer_id"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Storage error: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

// handlePollConsumer serves GET /api/v1/consumers/{consumer_id}/events:
// events after the cursor that pass the filters, without moving the cursor.
func (s *Server) handlePollConsumer(w http.ResponseWriter, r *http.Request, _ *caller) {
	p := newParams(r)
	limit, ok := p.uint("limit")
	if !ok {
		limit = 100
	}
	if p.err != "" {
		queryRejection(w, p.err)
		return
	}
	snap, err := s.getConsumer(r.PathValue("consumer_id"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Storage error: "+err.Error())
		return
	}
	cursor := int64(-1)
	if snap.CursorPosition != nil {
		cursor = *snap.CursorPosition
	}
	s.store.mu.RLock()
	positions := s.store.consumerEvents(cursor, snap.EventTypeFilters, limit)
	b := make([]byte, 0, 32+len(positions)*220)
	b = append(b, `{"events":[`...)
	for i, pos := range positions {
		if i > 0 {
			b = append(b, ',')
		}
		ev := s.store.event(int(pos))
		b = append(b, `{"position":`...)
		b = appendInt(b, int64(pos)+1)
		b = append(b, ',')
		start := len(b)
		b = appendEventJSON(b, &ev)
		// Drop the event's opening brace: its members follow "position".
		b = append(b[:start], b[start+1:]...)
	}
	s.store.mu.RUnlock()
	b = append(b, `],"count":`...)
	b = appendInt(b, int64(len(positions)))
	b = append(b, '}')
	writeRawJSON(w, http.StatusOK, b)
}

// handleAckConsumer serves POST /api/v1/consumers/{consumer_id}/ack: the
// cursor only moves forward, and may not pass the latest event.
func (s *Server) handleAckConsumer(w http.ResponseWriter, r *http.Request, _ *caller) {
	var req struct {
		Position *uint64 `json:"position"`
	}
	if !readJSONBody(w, r, &req, ackMembers) {
		return
	}
	if req.Position == nil {
		missingFieldRejection(w, "position")
		return
	}
	id := r.PathValue("consumer_id")
	s.store.mu.RLock()
	total := s.store.n
	s.store.mu.RUnlock()
	if *req.Position > uint64(total) {
		writeInvalid(w, fmt.Sprintf("Position %d is beyond the latest event offset %d", *req.Position, total))
		return
	}
	snap, moved := s.consumers.ack(id, int64(*req.Position))
	if moved {
		if err := s.persistConsumer(snap); err != nil {
			writeError(w, http.StatusInternalServerError, "Storage error: "+err.Error())
			return
		}
	}
	b := []byte(`{"status":"ok","consumer_id":`)
	b = appendJSONString(b, id)
	b = append(b, `,"position":`...)
	b = strconv.AppendUint(b, *req.Position, 10)
	b = append(b, '}')
	writeRawJSON(w, http.StatusOK, b)
}

func (s *Server) persistConsumer(snap consumerSnapshot) error {
	if s.persist == nil {
		return nil
	}
	return s.persist.writeConsumer(snap)
}
