package allsource

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/gen/query"
	"github.com/allsource-go/allsource/runtime"
)

// Health reports Core's health.
func (c CoreClient) Health(ctx context.Context, opts ...runtime.Option) (*core.Health, error) {
	return c.api.Health(ctx, opts...)
}

// Health reports the Query Service's health.
func (c QueryClient) Health(ctx context.Context, opts ...runtime.Option) (*query.Health, error) {
	return c.api.Health(ctx, opts...)
}

// EntityQuery selects entities for ListEntities and Entities.
type EntityQuery struct {
	// EventTypePrefix keeps entities with an event whose type starts with it.
	EventTypePrefix string
	// PayloadFilter keeps entities whose payload members are JSON-equal.
	PayloadFilter map[string]any
	// Limit and Offset window the result (ListEntities only).
	Limit, Offset int64
	// Order is Descending (most recent activity first, Core's default) or
	// Ascending.
	Order Order
}

func (q *EntityQuery) params() (core.ListEntitiesParams, error) {
	var p core.ListEntitiesParams
	if q.EventTypePrefix != "" {
		p.EventTypePrefix = runtime.Some(q.EventTypePrefix)
	}
	w, err := windowOf(q.PayloadFilter, q.Limit, q.Offset, q.Order)
	if err != nil {
		return p, err
	}
	p.PayloadFilter, p.Limit, p.Offset = w.payloadFilter, w.limit, w.offset
	if o, ok := w.order.Get(); ok {
		p.Order = runtime.Some(core.ListEntitiesOrder(o))
	}
	return p, nil
}

// ListEntities lists entities with their event counts and latest activity.
// Only Core serves it (the Query Service and the gateway have no such
// route), and Core does not scope it by tenant.
func (c CoreClient) ListEntities(ctx context.Context, q EntityQuery, opts ...runtime.Option) (*core.EntityPage, error) {
	p, err := q.params()
	if err != nil {
		return nil, err
	}
	return c.api.ListEntities(ctx, p, opts...)
}

// Entities returns every entity q selects, page by page.
func (c CoreClient) Entities(ctx context.Context, q EntityQuery, opts ...runtime.Option) iter.Seq2[core.EntitySummary, error] {
	q.Limit, q.Offset = 0, 0
	p, err := q.params()
	if err != nil {
		return failed[core.EntitySummary](err)
	}
	return paginate(ctx, "listEntities", c.cfg.pageSize, func(ctx context.Context, offset, limit int64) (Page[core.EntitySummary], error) {
		p.Offset, p.Limit = runtime.Some(offset), runtime.Some(limit)
		r, err := c.api.ListEntities(ctx, p, opts...)
		if err != nil {
			return Page[core.EntitySummary]{}, err
		}
		return Page[core.EntitySummary]{Items: r.Entities, HasMore: runtime.Some(r.HasMore)}, nil
	}, func(a, b *core.EntitySummary) bool { return a.EntityID == b.EntityID })
}

// DetectDuplicates groups the entities whose latest event of a type starting
// with eventTypePrefix has equal values for the payload members groupBy,
// keeping the groups of two or more. Only Core serves it.
func (c CoreClient) DetectDuplicates(ctx context.Context, eventTypePrefix string, groupBy []string, opts ...runtime.Option) (*core.DuplicatePage, error) {
	if eventTypePrefix == "" {
		return nil, &ArgumentError{Field: "event_type_prefix", Reason: "required"}
	}
	if len(groupBy) == 0 {
		return nil, &ArgumentError{Field: "group_by", Reason: "name at least one payload member"}
	}
	for _, g := range groupBy {
		if g == "" || strings.Contains(g, ",") {
			return nil, &ArgumentError{Field: "group_by", Value: g, Reason: "must be non-empty and contain no ','"}
		}
	}
	return c.api.DetectDuplicates(ctx, core.DetectDuplicatesParams{
		EventTypePrefix: eventTypePrefix,
		GroupBy:         strings.Join(groupBy, ","),
	}, opts...)
}

func checkProjection(name, entityID string) error {
	if name == "" {
		return &ArgumentError{Field: "projection", Reason: "must not be empty"}
	}
	if entityID != "" {
		return ValidateEntityID(entityID)
	}
	return nil
}

// ProjectionState returns the state stored for entityID in the projection
// store under name, and whether there is one. Core answers 200 with found
// false for an unknown entity; that is (nil, false, nil) here.
func (c CoreClient) ProjectionState(ctx context.Context, name, entityID string, opts ...runtime.Option) (json.RawMessage, bool, error) {
	if err := checkProjection(name, entityID); err != nil {
		return nil, false, err
	}
	r, err := c.api.GetProjectionEntityState(ctx, name, entityID, opts...)
	if err != nil {
		return nil, false, err
	}
	if !r.Found {
		return nil, false, nil
	}
	return r.State, true, nil
}

// GetProjectionState is ProjectionState decoded into the caller's type.
func GetProjectionState[S any](ctx context.Context, c CoreClient, name, entityID string, opts ...runtime.Option) (S, bool, error) {
	var s S
	raw, found, err := c.ProjectionState(ctx, name, entityID, opts...)
	if err != nil || !found {
		return s, found, err
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, true, fmt.Errorf("allsource: decode state of %s/%s: %w", name, entityID, err)
	}
	return s, true, nil
}

// PutProjectionState stores state (encoded as JSON) for entityID in the
// projection store under name, replacing what was there.
func (c CoreClient) PutProjectionState(ctx context.Context, name, entityID string, state any, opts ...runtime.Option) error {
	if err := checkProjection(name, entityID); err != nil {
		return err
	}
	raw, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("allsource: encode state of %s/%s: %w", name, entityID, err)
	}
	_, err = c.api.PutProjectionEntityState(ctx, name, entityID, core.SaveProjectionStateRequest{State: raw}, opts...)
	return err
}

// ProjectionStates returns the stored states of entityIDs under name, in
// one round trip. Entities with no state are absent from the map.
func (c CoreClient) ProjectionStates(ctx context.Context, name string, entityIDs []string, opts ...runtime.Option) (map[string]json.RawMessage, error) {
	if err := checkProjection(name, ""); err != nil {
		return nil, err
	}
	for _, id := range entityIDs {
		if err := ValidateEntityID(id); err != nil {
			return nil, err
		}
	}
	r, err := c.api.BulkGetProjectionStates(ctx, name, core.BulkGetProjectionStatesRequest{EntityIds: entityIDs}, opts...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(r.States))
	for _, s := range r.States {
		if s.Found {
			out[s.EntityID] = s.State
		}
	}
	return out, nil
}

// PutProjectionStates stores the states (each encoded as JSON) of several
// entities under name in one round trip.
func (c CoreClient) PutProjectionStates(ctx context.Context, name string, states map[string]any, opts ...runtime.Option) error {
	if err := checkProjection(name, ""); err != nil {
		return err
	}
	if len(states) == 0 {
		return nil
	}
	body := core.BulkSaveProjectionStatesRequest{States: make([]core.ProjectionStateEntry, 0, len(states))}
	for id, s := range states {
		if err := ValidateEntityID(id); err != nil {
			return err
		}
		raw, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("allsource: encode state of %s/%s: %w", name, id, err)
		}
		body.States = append(body.States, core.ProjectionStateEntry{EntityID: id, State: raw})
	}
	_, err := c.api.BulkSaveProjectionStates(ctx, name, body, opts...)
	return err
}

func checkConsumer(id string) error {
	if id == "" {
		return &ArgumentError{Field: "consumer_id", Reason: "must not be empty"}
	}
	return nil
}

// RegisterConsumer creates the durable consumer id, or replaces its filters
// while keeping its cursor. Filters are exact event types or "x.*" patterns
// (see ValidateFilter); none means every type. Register a consumer before
// streaming or polling it: an unknown id is created with no filters.
func (c CoreClient) RegisterConsumer(ctx context.Context, id string, filters []string, opts ...runtime.Option) (*core.Consumer, error) {
	if err := checkConsumer(id); err != nil {
		return nil, err
	}
	for _, f := range filters {
		if err := ValidateFilter(f); err != nil {
			return nil, err
		}
	}
	req := core.RegisterConsumerRequest{ConsumerID: id}
	if filters != nil {
		req.EventTypeFilters = runtime.Some(filters)
	}
	return c.api.RegisterConsumer(ctx, req, opts...)
}

// Consumer returns the durable consumer id (Core creates it, with no
// filters, when it does not exist).
func (c CoreClient) Consumer(ctx context.Context, id string, opts ...runtime.Option) (*core.Consumer, error) {
	if err := checkConsumer(id); err != nil {
		return nil, err
	}
	return c.api.GetConsumer(ctx, id, opts...)
}

// PositionedEvent is an event with its position: the 1-based index Core
// acks consumers by.
type PositionedEvent struct {
	Position int64
	Event    Event
}

// PollConsumer returns up to limit events after the consumer's cursor that
// match its filters (limit 0 means Core's default of 100). Polling does not
// move the cursor: ack what you have processed with AckConsumer.
func (c CoreClient) PollConsumer(ctx context.Context, id string, limit int64, opts ...runtime.Option) ([]PositionedEvent, error) {
	if err := checkConsumer(id); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, &ArgumentError{Field: "limit", Value: fmt.Sprint(limit), Reason: "must not be negative"}
	}
	var p core.PollConsumerEventsParams
	if limit > 0 {
		p.Limit = runtime.Some(limit)
	}
	r, err := c.api.PollConsumerEvents(ctx, id, p, opts...)
	if err != nil {
		return nil, err
	}
	out := make([]PositionedEvent, len(r.Events))
	for i, e := range r.Events {
		out[i] = PositionedEvent{Position: e.Position, Event: Event{
			ID: e.ID, EventType: e.EventType, EntityID: e.EntityID, TenantID: e.TenantID,
			Payload: e.Payload, Timestamp: e.Timestamp, Metadata: e.Metadata, Version: e.Version,
		}}
	}
	return out, nil
}

// AckConsumer moves the consumer's cursor to position. The cursor only
// moves forward: acking a position at or below it changes nothing (rename
// the consumer to start over), and a position beyond the newest event is
// refused.
func (c CoreClient) AckConsumer(ctx context.Context, id string, position int64, opts ...runtime.Option) error {
	if err := checkConsumer(id); err != nil {
		return err
	}
	if position < 1 {
		return &ArgumentError{Field: "position", Value: fmt.Sprint(position), Reason: "positions start at 1"}
	}
	_, err := c.api.AckConsumer(ctx, id, core.AckRequest{Position: position}, opts...)
	return err
}

// SaveCheckpoint records that the consumer has processed every event up to
// position (an ack under the hood).
func (c CoreClient) SaveCheckpoint(ctx context.Context, id string, position int64, opts ...runtime.Option) error {
	return c.AckConsumer(ctx, id, position, opts...)
}

// LoadCheckpoint returns the consumer's cursor, and false when it has
// acked nothing yet.
func (c CoreClient) LoadCheckpoint(ctx context.Context, id string, opts ...runtime.Option) (int64, bool, error) {
	r, err := c.Consumer(ctx, id, opts...)
	if err != nil {
		return 0, false, err
	}
	pos, ok := r.CursorPosition.Get()
	return pos, ok, nil
}
