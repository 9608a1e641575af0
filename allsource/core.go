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
func (c CoreClient) Health(ctx context.Context, opts ...Option) (*core.Health, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	return c.api.Health(ctx, s.runtime...)
}

// Health reports the Query Service's health.
func (c QueryClient) Health(ctx context.Context, opts ...Option) (*query.Health, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	return c.api.Health(ctx, s.runtime...)
}

// EntityQuery selects entities for ListEntities and Entities.
type EntityQuery struct {
	// EventTypePrefix keeps entities with an event whose type starts with it.
	EventTypePrefix string
	// PayloadFilter keeps entities whose payload members are JSON-equal.
	PayloadFilter map[string]any
	// Limit and Offset window the result: one page of ListEntities, or the
	// whole iteration of Entities.
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
func (c CoreClient) ListEntities(ctx context.Context, q EntityQuery, opts ...Option) (*core.EntityPage, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	p, err := q.params()
	if err != nil {
		return nil, err
	}
	res, err := c.api.ListEntities(ctx, p, s.runtime...)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// Entities returns the entities q selects, page by page: from q.Offset on,
// and at most q.Limit of them when it is set.
func (c CoreClient) Entities(ctx context.Context, q EntityQuery, opts ...Option) iter.Seq2[core.EntitySummary, error] {
	s, err := c.cfg.call(opts)
	if err != nil {
		return failed[core.EntitySummary](err)
	}
	start, total := q.Offset, q.Limit
	q.Limit, q.Offset = 0, 0
	p, err := q.params()
	if err != nil {
		return failed[core.EntitySummary](err)
	}
	return runtime.PaginateOffset(ctx, "listEntities", start, s.pageSize, total, func(ctx context.Context, offset, limit int64) (runtime.Page[core.EntitySummary], error) {
		p.Offset, p.Limit = runtime.Some(offset), runtime.Some(limit)
		r, err := c.api.ListEntities(ctx, p, s.runtime...)
		if err != nil {
			return runtime.Page[core.EntitySummary]{}, err
		}
		return runtime.Page[core.EntitySummary]{Items: r.Body.Entities, HasMore: runtime.Some(r.Body.HasMore)}, nil
	})
}

// DetectDuplicates groups the entities whose latest event of a type starting
// with eventTypePrefix has equal values for the payload members groupBy,
// keeping the groups of two or more. Only Core serves it.
func (c CoreClient) DetectDuplicates(ctx context.Context, eventTypePrefix string, groupBy []string, opts ...Option) (*core.DuplicatePage, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
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
	res, err := c.api.DetectDuplicates(ctx, core.DetectDuplicatesParams{
		EventTypePrefix: eventTypePrefix,
		GroupBy:         strings.Join(groupBy, ","),
	}, s.runtime...)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// checkPathSegment refuses an id that goes into a request path as "." or
// "..": a client or proxy resolves those as path steps, so the request
// would reach another endpoint (a put gets 405, a read says "not found", a
// poll returns nothing) without an error.
func checkPathSegment(field, v string) error {
	if v == "." || v == ".." {
		return &ArgumentError{Field: field, Value: v, Reason: `"." and ".." cannot be sent in a request path`}
	}
	return nil
}

func checkProjection(name, entityID string) error {
	if name == "" {
		return &ArgumentError{Field: "projection", Reason: "must not be empty"}
	}
	if err := checkPathSegment("projection", name); err != nil {
		return err
	}
	if entityID != "" {
		if err := ValidateEntityID(entityID); err != nil {
			return err
		}
		return checkPathSegment("entity_id", entityID)
	}
	return nil
}

// ListProjections lists the projections registered in Core (its built-in
// entity_snapshots and event_counters among them).
func (c CoreClient) ListProjections(ctx context.Context, opts ...Option) (*core.ProjectionList, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	res, err := c.api.ListProjections(ctx, s.runtime...)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// StateQuery selects entries of a projection's state store for
// ProjectionStateSummary and ProjectionStateSummaries.
type StateQuery struct {
	// EntityIDPrefix keeps entities whose id starts with it.
	EntityIDPrefix string
	// Limit and Offset window the result: one page of
	// ProjectionStateSummary, or the whole iteration of
	// ProjectionStateSummaries. Zero Limit means no cap.
	Limit, Offset int64
}

func (q *StateQuery) params() (core.GetProjectionStateSummaryParams, error) {
	var p core.GetProjectionStateSummaryParams
	if q.Limit < 0 || q.Offset < 0 {
		return p, &ArgumentError{Field: "limit/offset", Value: fmt.Sprint(q.Limit, q.Offset), Reason: "must not be negative"}
	}
	if q.EntityIDPrefix != "" {
		p.EntityIDPrefix = runtime.Some(q.EntityIDPrefix)
	}
	if q.Limit > 0 {
		p.Limit = runtime.Some(q.Limit)
	}
	if q.Offset > 0 {
		p.Offset = runtime.Some(q.Offset)
	}
	return p, nil
}

// ProjectionStateSummary returns one page of the states stored under name,
// ordered by entity id. An unknown name has no states.
func (c CoreClient) ProjectionStateSummary(ctx context.Context, name string, q StateQuery, opts ...Option) (*core.ProjectionStateSummary, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	if err := checkProjection(name, ""); err != nil {
		return nil, err
	}
	p, err := q.params()
	if err != nil {
		return nil, err
	}
	res, err := c.api.GetProjectionStateSummary(ctx, name, p, s.runtime...)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// ProjectionStateSummaries returns the states stored under name, ordered by
// entity id, page by page: from q.Offset on, and at most q.Limit of them
// when it is set. A server that ignores the limit or the offset yields a
// *runtime.ProtocolError instead of looping forever.
func (c CoreClient) ProjectionStateSummaries(ctx context.Context, name string, q StateQuery, opts ...Option) iter.Seq2[core.ProjectionStateEntry, error] {
	s, err := c.cfg.call(opts)
	if err != nil {
		return failed[core.ProjectionStateEntry](err)
	}
	if err := checkProjection(name, ""); err != nil {
		return failed[core.ProjectionStateEntry](err)
	}
	start, total := q.Offset, q.Limit
	q.Limit, q.Offset = 0, 0
	p, err := q.params()
	if err != nil {
		return failed[core.ProjectionStateEntry](err)
	}
	return runtime.PaginateOffset(ctx, "getProjectionStateSummary", start, s.pageSize, total, func(ctx context.Context, offset, limit int64) (runtime.Page[core.ProjectionStateEntry], error) {
		p.Offset, p.Limit = runtime.Some(offset), runtime.Some(limit)
		r, err := c.api.GetProjectionStateSummary(ctx, name, p, s.runtime...)
		if err != nil {
			return runtime.Page[core.ProjectionStateEntry]{}, err
		}
		return runtime.Page[core.ProjectionStateEntry]{Items: r.Body.States, HasMore: runtime.Some(r.Body.HasMore)}, nil
	})
}

// ProjectionState returns the state stored for entityID in the projection
// store under name, and whether there is one. Core answers 200 with found
// false for an unknown entity; that is (nil, false, nil) here.
func (c CoreClient) ProjectionState(ctx context.Context, name, entityID string, opts ...Option) (json.RawMessage, bool, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, false, err
	}
	if err := checkProjection(name, entityID); err != nil {
		return nil, false, err
	}
	r, err := c.api.GetProjectionEntityState(ctx, name, entityID, s.runtime...)
	if err != nil {
		return nil, false, err
	}
	if !r.Body.Found {
		return nil, false, nil
	}
	return r.Body.State, true, nil
}

// GetProjectionState is ProjectionState decoded into the caller's type.
func GetProjectionState[S any](ctx context.Context, c CoreClient, name, entityID string, opts ...Option) (S, bool, error) {
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
func (c CoreClient) PutProjectionState(ctx context.Context, name, entityID string, state any, opts ...Option) error {
	s, err := c.cfg.call(opts)
	if err != nil {
		return err
	}
	if err := checkProjection(name, entityID); err != nil {
		return err
	}
	raw, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("allsource: encode state of %s/%s: %w", name, entityID, err)
	}
	_, err = c.api.PutProjectionEntityState(ctx, name, entityID, core.SaveProjectionStateRequest{State: raw}, s.runtime...)
	return err
}

// ProjectionStates returns the stored states of entityIDs under name, in
// one round trip. Entities with no state are absent from the map.
func (c CoreClient) ProjectionStates(ctx context.Context, name string, entityIDs []string, opts ...Option) (map[string]json.RawMessage, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	if err := checkProjection(name, ""); err != nil {
		return nil, err
	}
	for _, id := range entityIDs {
		if err := ValidateEntityID(id); err != nil {
			return nil, err
		}
	}
	r, err := c.api.BulkGetProjectionStates(ctx, name, core.BulkGetProjectionStatesRequest{EntityIds: entityIDs}, s.runtime...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(r.Body.States))
	for _, st := range r.Body.States {
		if st.Found {
			out[st.EntityID] = st.State
		}
	}
	return out, nil
}

// EntityState is the state of one entity, to store with
// PutProjectionStates.
type EntityState struct {
	// EntityID names the entity.
	EntityID string
	// State is encoded as JSON: a json.RawMessage is sent as it is.
	State any
}

// PutProjectionStates stores the states of several entities under name, in
// order, and reports them as one call would (Saved and Total over all
// states). Every state is encoded before anything is sent. Input whose
// encoding exceeds the byte budget (WithBatchBytes, DefaultBatchBytes by
// default) is sent as several requests in order; a state that alone
// exceeds it is an argument error, before anything is sent. When a request
// after the first fails, the result counts the states stored before it
// and the error is a *BatchError.
func (c CoreClient) PutProjectionStates(ctx context.Context, name string, states []EntityState, opts ...Option) (*core.BulkSaveResult, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	if err := checkProjection(name, ""); err != nil {
		return nil, err
	}
	out := &core.BulkSaveResult{Projection: name}
	if len(states) == 0 {
		return out, nil
	}
	items := make([]core.ProjectionStateEntry, len(states))
	for i, st := range states {
		if err := ValidateEntityID(st.EntityID); err != nil {
			return nil, fmt.Errorf("allsource: state %d: %w", i, err)
		}
		raw, err := rawJSON(st.State, "state")
		if err != nil {
			return nil, fmt.Errorf("allsource: state %d (%s/%s): %w", i, name, st.EntityID, err)
		}
		if raw == nil {
			raw = json.RawMessage("null")
		}
		items[i] = core.ProjectionStateEntry{EntityID: st.EntityID, State: raw}
	}
	runs, err := splitBatch(items, core.BulkSaveProjectionStatesRequest{States: []core.ProjectionStateEntry{}}, s.batchBytes, "states",
		func(e *core.ProjectionStateEntry) int { return len(e.EntityID) + len(e.State) })
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		res, err := c.api.BulkSaveProjectionStates(ctx, name, core.BulkSaveProjectionStatesRequest{States: items[r.start:r.end]}, s.runtime...)
		if err != nil {
			if r.start == 0 {
				return nil, err
			}
			return out, &BatchError{Stored: r.start, Start: r.start, End: r.end, Err: err}
		}
		out.Saved += res.Body.Saved
		out.Total += res.Body.Total
	}
	return out, nil
}

func checkConsumer(id string) error {
	if id == "" {
		return &ArgumentError{Field: "consumer_id", Reason: "must not be empty"}
	}
	return checkPathSegment("consumer_id", id)
}

// RegisterConsumer creates the durable consumer id, or replaces its filters
// while keeping its cursor. Filters are exact event types or "x.*" patterns
// (see ValidateFilter); none means every type. Register a consumer before
// streaming or polling it: an unknown id is created with no filters.
func (c CoreClient) RegisterConsumer(ctx context.Context, id string, filters []string, opts ...Option) (*core.Consumer, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
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
	res, err := c.api.RegisterConsumer(ctx, req, s.runtime...)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// Consumer returns the durable consumer id (Core creates it, with no
// filters, when it does not exist).
func (c CoreClient) Consumer(ctx context.Context, id string, opts ...Option) (*core.Consumer, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	if err := checkConsumer(id); err != nil {
		return nil, err
	}
	res, err := c.api.GetConsumer(ctx, id, s.runtime...)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// PositionedEvent is an event with its position: the 1-based index Core
// acks consumers by, or 0 for a live stream event, which Core sends
// without one.
type PositionedEvent struct {
	Position int64
	Event    Event
}

// PollConsumer returns up to limit events after the consumer's cursor that
// match its filters (limit 0 means Core's default of 100). Polling does not
// move the cursor: ack what you have processed with AckConsumer.
func (c CoreClient) PollConsumer(ctx context.Context, id string, limit int64, opts ...Option) ([]PositionedEvent, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
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
	r, err := c.api.PollConsumerEvents(ctx, id, p, s.runtime...)
	if err != nil {
		return nil, err
	}
	out := make([]PositionedEvent, len(r.Body.Events))
	for i, e := range r.Body.Events {
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
func (c CoreClient) AckConsumer(ctx context.Context, id string, position int64, opts ...Option) error {
	s, err := c.cfg.call(opts)
	if err != nil {
		return err
	}
	if err := checkConsumer(id); err != nil {
		return err
	}
	if position < 1 {
		return &ArgumentError{Field: "position", Value: fmt.Sprint(position), Reason: "positions start at 1"}
	}
	_, err = c.api.AckConsumer(ctx, id, core.AckRequest{Position: position}, s.runtime...)
	return err
}

// SaveCheckpoint records that the consumer has processed every event up to
// position (an ack under the hood).
func (c CoreClient) SaveCheckpoint(ctx context.Context, id string, position int64, opts ...Option) error {
	return c.AckConsumer(ctx, id, position, opts...)
}

// LoadCheckpoint returns the consumer's cursor, and false when it has
// acked nothing yet.
func (c CoreClient) LoadCheckpoint(ctx context.Context, id string, opts ...Option) (int64, bool, error) {
	r, err := c.Consumer(ctx, id, opts...)
	if err != nil {
		return 0, false, err
	}
	pos, ok := r.CursorPosition.Get()
	return pos, ok, nil
}
