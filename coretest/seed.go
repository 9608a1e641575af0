package coretest

import (
	"encoding/json"
	"errors"
	"fmt"
)

// SeedEvent is an event to store with Seed.
type SeedEvent struct {
	// Type is the event type, for example "order.placed".
	Type string
	// EntityID is the entity (stream) the event belongs to.
	EntityID string
	// TenantID is the owning tenant; empty means "default".
	TenantID string
	// Payload is the event body, any JSON value; nil means {}.
	Payload json.RawMessage
	// Metadata is optional JSON metadata; nil means none.
	Metadata json.RawMessage
}

// ErrInvalidEvent is wrapped by Seed's error for an event that Core's
// validation rules (reference §4.2) reject.
var ErrInvalidEvent = errors.New("invalid event")

// Seed stores events in order, as one batch ingest would but without HTTP:
// it is the fast way to fill the server for a test or a benchmark. Events
// are validated with Core's rules; the first invalid one stops the seeding
// and the events before it stay stored. Streams see seeded events live.
// It returns how many events were stored.
func (s *Server) Seed(events ...SeedEvent) (int, error) {
	evs := make([]newEvent, 0, len(events))
	var invalid error
	for i, e := range events {
		tenant := e.TenantID
		if tenant == "" {
			tenant = "default"
		}
		payload := e.Payload
		if payload == nil {
			payload = json.RawMessage("{}")
		}
		req := ingestRequest{EventType: e.Type, EntityID: e.EntityID, TenantID: &tenant, Payload: payload, Metadata: e.Metadata}
		if !json.Valid(payload) || (e.Metadata != nil && !json.Valid(e.Metadata)) {
			invalid = fmt.Errorf("coretest: seed event %d: %w: payload or metadata is not JSON", i, ErrInvalidEvent)
			break
		}
		ne, msg := req.toNewEvent()
		if msg != "" {
			invalid = fmt.Errorf("coretest: seed event %d: %w: %s", i, ErrInvalidEvent, msg)
			break
		}
		evs = append(evs, ne)
	}
	res, err := s.ingest(evs)
	if err != nil {
		return len(res), fmt.Errorf("coretest: seed: %w", err)
	}
	return len(res), invalid
}

// EventCount returns the number of stored events, which is also the
// latest global position.
func (s *Server) EventCount() int {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	return s.store.n
}
