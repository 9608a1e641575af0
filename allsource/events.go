package allsource

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/allsource-go/allsource/gen/common"
	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/gen/query"
	"github.com/allsource-go/allsource/runtime"
)

// Event is a stored event, as queries, consumers and the stream return it.
// Payload and Metadata stay raw JSON: decode them with DecodePayload.
type Event = common.Event

// DecodePayload decodes an event's payload into a value of the caller's
// type. It is the one payload decoder of the SDK: a projection reducer's
// event passes &ev.Event.
func DecodePayload[T any](e *Event) (T, error) {
	var v T
	if err := json.Unmarshal(e.Payload, &v); err != nil {
		return v, fmt.Errorf("allsource: decode payload of %s event %s (entity %q, version %d): %w",
			e.EventType, e.ID, e.EntityID, e.Version, err)
	}
	return v, nil
}

// NewEvent is an event to ingest.
type NewEvent struct {
	// Type is the event type, such as "order.placed" (see ValidateEventType).
	Type string
	// EntityID names the entity (stream) the event belongs to.
	EntityID string
	// Payload is the event body: a json.RawMessage or []byte holding JSON is
	// sent as is, anything else is encoded with encoding/json. Nil sends {}.
	Payload any
	// Metadata is optional caller metadata, encoded like Payload; nil sends
	// none.
	Metadata any
	// TenantID scopes the event; empty means the client's WithTenant, or
	// else Core's "default" tenant.
	TenantID string
	// ExpectedVersion makes the append conditional: it fails with a
	// version conflict (errors.Is(err, runtime.ErrVersionConflict)) unless
	// the entity is at exactly this version; 0 means "only if the entity
	// has no events". A conditional append is also safe to retry.
	ExpectedVersion runtime.Opt[int64]
}

func rawJSON(v any, field string) (json.RawMessage, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if !json.Valid(x) {
			return nil, &ArgumentError{Field: field, Value: truncateArg(string(x)), Reason: "not valid JSON"}
		}
		return x, nil
	case []byte:
		if !json.Valid(x) {
			return nil, &ArgumentError{Field: field, Value: truncateArg(string(x)), Reason: "not valid JSON"}
		}
		return x, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("allsource: encode %s: %w", field, err)
	}
	return b, nil
}

func truncateArg(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (c *settings) eventType(t string) (string, error) {
	if c.normalize {
		t = NormalizeEventType(t)
	}
	return t, ValidateEventType(t)
}

func (c *settings) ingestRequest(e NewEvent) (core.IngestEventRequest, error) {
	var req core.IngestEventRequest
	if e.TenantID == "" {
		e.TenantID = c.tenant
	}
	t, err := c.eventType(e.Type)
	if err != nil {
		return req, err
	}
	if err := ValidateEntityID(e.EntityID); err != nil {
		return req, err
	}
	if e.TenantID != "" {
		if err := ValidateTenantID(e.TenantID); err != nil {
			return req, err
		}
		req.TenantID = runtime.Some(common.TenantID(e.TenantID))
	}
	if v, ok := e.ExpectedVersion.Get(); ok && v < 0 {
		return req, &ArgumentError{Field: "expected_version", Value: fmt.Sprint(v), Reason: "must not be negative"}
	}
	payload, err := rawJSON(e.Payload, "payload")
	if err != nil {
		return req, err
	}
	if payload == nil {
		payload = json.RawMessage("{}")
	}
	meta, err := rawJSON(e.Metadata, "metadata")
	if err != nil {
		return req, err
	}
	req.EventType = common.EventType(t)
	req.EntityID = common.EntityID(e.EntityID)
	req.Payload = payload
	req.Metadata = meta
	req.ExpectedVersion = e.ExpectedVersion
	return req, nil
}

// Ingest appends one event and returns its id, timestamp and the entity's
// new version. Arguments Core would refuse are rejected before any request.
// A plain append is retried only when the failure proves Core never stored
// it, so it is never duplicated by a retry; a conditional append
// (ExpectedVersion set) is retried like any idempotent call.
func (c CoreClient) Ingest(ctx context.Context, e NewEvent, opts ...Option) (*core.IngestResult, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	req, err := s.ingestRequest(e)
	if err != nil {
		return nil, err
	}
	res, err := c.api.IngestEvent(ctx, req, s.runtime...)
	if err != nil {
		return nil, versionConflict(err)
	}
	return res.Body, nil
}

// IngestBatch appends events in order and reports them as one call would:
// one entry per event in Events, Total and Ingested over the whole batch.
// Every item is validated before anything is sent. A batch whose encoding
// exceeds the byte budget (WithBatchBytes, DefaultBatchBytes by default;
// Core refuses bodies over 2 MiB) is sent as several requests in order,
// each waiting for the one before; an event that alone exceeds the budget
// is an argument error, before anything is sent.
//
// A batch is not atomic: when an item fails, the items before it are stored.
// If the first request fails, the error is that request's, as for one call.
// If a later one fails, the result holds the events stored by the requests
// before it and the error is a *BatchError saying how many (errors.Is and
// errors.As still reach the server's error).
func (c CoreClient) IngestBatch(ctx context.Context, events []NewEvent, opts ...Option) (*core.BatchIngestResult, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, &ArgumentError{Field: "events", Reason: "batch is empty"}
	}
	items := make([]core.IngestEventRequest, len(events))
	for i, e := range events {
		req, err := s.ingestRequest(e)
		if err != nil {
			return nil, fmt.Errorf("allsource: batch item %d: %w", i, err)
		}
		items[i] = req
	}
	runs, err := splitBatch(items, core.IngestEventsRequest{Events: []core.IngestEventRequest{}}, s.batchBytes, "events",
		func(r *core.IngestEventRequest) int {
			return len(r.Payload) + len(r.Metadata) + len(r.EventType) + len(r.EntityID) + len(r.TenantID.Or(""))
		})
	if err != nil {
		return nil, err
	}
	out := &core.BatchIngestResult{Events: make([]core.IngestResult, 0, len(items))}
	for _, r := range runs {
		res, err := c.api.IngestEvents(ctx, core.IngestEventsRequest{Events: items[r.start:r.end]}, s.runtime...)
		if err != nil {
			err = versionConflict(err)
			if r.start == 0 {
				return nil, err
			}
			return out, &BatchError{Stored: r.start, Start: r.start, End: r.end, Err: err}
		}
		out.Total += res.Body.Total
		out.Ingested += res.Body.Ingested
		out.Events = append(out.Events, res.Body.Events...)
	}
	return out, nil
}

// BatchError reports a batch sent as several requests (see
// CoreClient.IngestBatch) whose request for items [Start, End) failed after
// the earlier requests stored items [0, Stored). Within the failing request
// Core may have stored the items before the failing one, too.
type BatchError struct {
	// Stored is the number of leading items stored by the earlier requests.
	Stored int
	// Start and End bound the items of the failing request.
	Start, End int
	// Err is the failing request's error.
	Err error
}

// Error describes the failure.
func (e *BatchError) Error() string {
	return fmt.Sprintf("allsource: batch items %d to %d: %v (items 0 to %d were stored by earlier requests)", e.Start, e.End-1, e.Err, e.Stored-1)
}

// Unwrap returns the failing request's error.
func (e *BatchError) Unwrap() error { return e.Err }

// run is a range [start, end) of batch items sent in one request.
type run struct{ start, end int }

// maxItemOverhead bounds what an encoded batch item adds to its variable
// parts: member names, quotes, colons, commas, braces and numbers.
const maxItemOverhead = 256

// splitBatch splits items into runs whose request body, envelope (the
// request with an empty, non-nil list of items) included, is at most
// budget bytes. It refuses an item that does not fit a request by itself,
// naming it by field[i]. Sizes are those of the encoding the generated
// client sends (json.Marshal of the request). content returns the bytes of
// an item's variable parts (strings and raw JSON): when even their worst
// case encoding fits the budget, the items go in one request without being
// encoded twice.
func splitBatch[T, E any](items []T, envelope E, budget int, field string, content func(*T) int) ([]run, error) {
	env, err := json.Marshal(envelope)
	if err != nil {
		return nil, fmt.Errorf("allsource: encode %s: %w", field, err)
	}
	base := len(env)
	// Worst case: every byte escaped as \u00XX (six bytes), plus member
	// names, punctuation and numbers.
	bound := base
	for i := range items {
		bound += 6*content(&items[i]) + maxItemOverhead
		if bound > budget {
			break
		}
	}
	if bound <= budget {
		return []run{{0, len(items)}}, nil
	}
	var runs []run
	start, size := 0, base
	for i := range items {
		b, err := json.Marshal(items[i])
		if err != nil {
			return nil, fmt.Errorf("allsource: encode %s[%d]: %w", field, i, err)
		}
		n := len(b)
		if base+n > budget {
			return nil, &ArgumentError{Field: fmt.Sprintf("%s[%d]", field, i), Value: truncateArg(string(b)),
				Reason: fmt.Sprintf("encodes to %d bytes, more than one request may carry (batch budget %d bytes)", n, budget)}
		}
		add := n
		if i > start {
			add++ // the comma
		}
		if size+add > budget {
			runs = append(runs, run{start, i})
			start, size, add = i, base, n
		}
		size += add
	}
	return append(runs, run{start, len(items)}), nil
}

// Order is the order of query results.
type Order string

// Orders.
const (
	Ascending  Order = "asc"  // oldest first (the default)
	Descending Order = "desc" // newest first
)

// Query selects events. The zero value of a field means "no filter".
type Query struct {
	// TenantID scopes the query; empty means the client's WithTenant, or
	// else the authenticated tenant.
	TenantID string
	// EntityID selects one entity's events.
	EntityID string
	// EventType selects exactly this type.
	EventType string
	// EventTypePrefix selects types starting with it (a plain prefix, such
	// as "order."). Core ignores it when EventType is set without EntityID.
	EventTypePrefix string
	// ExcludeEventTypePrefixes leaves out types starting with any of them.
	ExcludeEventTypePrefixes []string
	// Since and Until bound the timestamp, inclusive.
	Since, Until time.Time
	// AsOf reads the events as of that instant (timestamp <= AsOf).
	AsOf time.Time
	// PayloadFilter selects events whose payload has each of these
	// top-level members equal (as JSON: "42" does not equal 42).
	PayloadFilter map[string]any
	// Limit caps the number of events: of one Query call, and of the whole
	// iteration of Events and FoldEvents, which fetch pages until they have
	// that many. Zero means no cap (Core has no default limit).
	Limit int64
	// Offset skips that many matches (for Events, before the first page).
	Offset int64
	// Order sorts by (timestamp, version); Ascending by default.
	Order Order
}

func (q *Query) coreParams(c *settings) (core.QueryEventsParams, error) {
	var p core.QueryEventsParams
	tenant := q.TenantID
	if tenant == "" {
		tenant = c.tenant
	}
	if tenant != "" {
		if err := ValidateTenantID(tenant); err != nil {
			return p, err
		}
		p.TenantID = runtime.Some(common.TenantID(tenant))
	}
	if q.EntityID != "" {
		if err := ValidateEntityID(q.EntityID); err != nil {
			return p, err
		}
		p.EntityID = runtime.Some(common.EntityID(q.EntityID))
	}
	if q.EventType != "" {
		t, err := c.eventType(q.EventType)
		if err != nil {
			return p, err
		}
		p.EventType = runtime.Some(t)
	}
	if q.EventTypePrefix != "" {
		p.EventTypePrefix = runtime.Some(q.EventTypePrefix)
	}
	if len(q.ExcludeEventTypePrefixes) > 0 {
		for _, x := range q.ExcludeEventTypePrefixes {
			if x == "" || strings.Contains(x, ",") {
				return p, &ArgumentError{Field: "exclude_event_type_prefix", Value: x, Reason: "must be non-empty and contain no ','"}
			}
		}
		p.ExcludeEventTypePrefix = runtime.Some(strings.Join(q.ExcludeEventTypePrefixes, ","))
	}
	if !q.Since.IsZero() {
		p.Since = runtime.Some(q.Since.UTC())
	}
	if !q.Until.IsZero() {
		p.Until = runtime.Some(q.Until.UTC())
	}
	if !q.AsOf.IsZero() {
		p.AsOf = runtime.Some(q.AsOf.UTC())
	}
	w, err := windowOf(q.PayloadFilter, q.Limit, q.Offset, q.Order)
	if err != nil {
		return p, err
	}
	p.PayloadFilter, p.Limit, p.Offset = w.payloadFilter, w.limit, w.offset
	if o, ok := w.order.Get(); ok {
		p.Order = runtime.Some(core.QueryEventsOrder(o))
	}
	return p, nil
}

// window holds the payload filter, paging and order shared by event and
// entity queries, checked and encoded.
type window struct {
	payloadFilter runtime.Opt[string]
	limit, offset runtime.Opt[int64]
	order         runtime.Opt[Order]
}

func windowOf(payloadFilter map[string]any, limit, offset int64, order Order) (window, error) {
	var w window
	if len(payloadFilter) > 0 {
		b, err := json.Marshal(payloadFilter)
		if err != nil {
			return w, fmt.Errorf("allsource: encode payload filter: %w", err)
		}
		w.payloadFilter = runtime.Some(string(b))
	}
	if limit < 0 || offset < 0 {
		return w, &ArgumentError{Field: "limit/offset", Value: fmt.Sprint(limit, offset), Reason: "must not be negative"}
	}
	if limit > 0 {
		w.limit = runtime.Some(limit)
	}
	if offset > 0 {
		w.offset = runtime.Some(offset)
	}
	switch order {
	case "":
	case Ascending, Descending:
		w.order = runtime.Some(order)
	default:
		return w, &ArgumentError{Field: "order", Value: string(order), Reason: `must be "asc" or "desc"`}
	}
	return w, nil
}

// queryParams converts q for the Query Service, which forwards only the
// entity, exact type, time window, limit and offset filters to Core: any
// other filter is rejected rather than silently dropped.
func (q *Query) queryParams(c *settings) (query.QueryEventsParams, error) {
	var p query.QueryEventsParams
	if c.tenant != "" {
		return p, errQueryTenant
	}
	unsupported := func(field string) error {
		return &ArgumentError{Field: field, Reason: "the Query Service does not forward this filter; query Core with a CoreClient"}
	}
	switch {
	case q.TenantID != "":
		return p, &ArgumentError{Field: "tenant_id", Value: q.TenantID, Reason: "the Query Service scopes queries to the key's tenant"}
	case q.EventTypePrefix != "":
		return p, unsupported("event_type_prefix")
	case len(q.ExcludeEventTypePrefixes) > 0:
		return p, unsupported("exclude_event_type_prefix")
	case len(q.PayloadFilter) > 0:
		return p, unsupported("payload_filter")
	case q.Order != "" && q.Order != Ascending:
		return p, unsupported("order")
	}
	cp, err := q.coreParams(c)
	if err != nil {
		return p, err
	}
	p.EntityID, p.Since, p.Until, p.AsOf, p.Limit, p.Offset = cp.EntityID, cp.Since, cp.Until, cp.AsOf, cp.Limit, cp.Offset
	if t, ok := cp.EventType.Get(); ok {
		p.EventType = runtime.Some(t)
	}
	return p, nil
}

// QueryResult is one page of events.
type QueryResult = common.QueryEventsResponse

// Query returns the events q selects, as one response (use Events to page
// through them all).
func (c CoreClient) Query(ctx context.Context, q Query, opts ...Option) (*QueryResult, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	p, err := q.coreParams(s)
	if err != nil {
		return nil, err
	}
	res, err := c.api.QueryEvents(ctx, p, s.runtime...)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// Query returns the events q selects, as one response. The Query Service
// applies a default limit of 100.
func (c QueryClient) Query(ctx context.Context, q Query, opts ...Option) (*QueryResult, error) {
	s, err := c.cfg.call(opts)
	if err != nil {
		return nil, err
	}
	p, err := q.queryParams(s)
	if err != nil {
		return nil, err
	}
	res, err := c.api.QueryEvents(ctx, p, s.runtime...)
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}

// EventSource is what both clients offer for reading every event a query
// selects, page by page.
type EventSource interface {
	Events(ctx context.Context, q Query, opts ...Option) iter.Seq2[Event, error]
}

// Events returns the events q selects, fetching pages lazily as the caller
// ranges: from q.Offset on, and at most q.Limit of them when it is set. A
// server that ignores the offset or the limit yields a
// *runtime.ProtocolError instead of looping forever.
func (c CoreClient) Events(ctx context.Context, q Query, opts ...Option) iter.Seq2[Event, error] {
	s, err := c.cfg.call(opts)
	if err != nil {
		return failed[Event](err)
	}
	start, total := q.Offset, q.Limit
	q.Limit, q.Offset = 0, 0
	p, err := q.coreParams(s)
	if err != nil {
		return failed[Event](err)
	}
	return eventPages(ctx, start, s.pageSize, total, func(ctx context.Context, offset, limit int64) (*QueryResult, error) {
		p.Offset, p.Limit = runtime.Some(offset), runtime.Some(limit)
		res, err := c.api.QueryEvents(ctx, p, s.runtime...)
		if err != nil {
			return nil, err
		}
		return res.Body, nil
	})
}

// EntityEvents returns every event of one entity, oldest first (in the
// client's WithTenant, or the authenticated tenant).
func (c CoreClient) EntityEvents(ctx context.Context, entityID string, opts ...Option) iter.Seq2[Event, error] {
	if entityID == "" {
		return failed[Event](&ArgumentError{Field: "entity_id", Reason: "must not be empty"})
	}
	return c.Events(ctx, Query{EntityID: entityID}, opts...)
}

// Events returns the events q selects, page by page (see CoreClient.Events).
func (c QueryClient) Events(ctx context.Context, q Query, opts ...Option) iter.Seq2[Event, error] {
	s, err := c.cfg.call(opts)
	if err != nil {
		return failed[Event](err)
	}
	start, total := q.Offset, q.Limit
	q.Limit, q.Offset = 0, 0
	p, err := q.queryParams(s)
	if err != nil {
		return failed[Event](err)
	}
	return eventPages(ctx, start, s.pageSize, total, func(ctx context.Context, offset, limit int64) (*QueryResult, error) {
		p.Offset, p.Limit = runtime.Some(offset), runtime.Some(limit)
		res, err := c.api.QueryEvents(ctx, p, s.runtime...)
		if err != nil {
			return nil, err
		}
		return res.Body, nil
	})
}

// EntityEvents returns every event of one entity, oldest first.
func (c QueryClient) EntityEvents(ctx context.Context, entityID string, opts ...Option) iter.Seq2[Event, error] {
	if entityID == "" {
		return failed[Event](&ArgumentError{Field: "entity_id", Reason: "must not be empty"})
	}
	return c.Events(ctx, Query{EntityID: entityID}, opts...)
}

// eventPages pages through an events query whose page at offset query
// fetches: from start on, size at a time, at most total events (0: all),
// with the runtime's guards against a server that ignores the offset or the
// limit.
func eventPages(ctx context.Context, start, size, total int64, query func(ctx context.Context, offset, limit int64) (*QueryResult, error)) iter.Seq2[Event, error] {
	return runtime.PaginateOffset(ctx, "queryEvents", start, size, total, func(ctx context.Context, offset, limit int64) (runtime.Page[Event], error) {
		r, err := query(ctx, offset, limit)
		if err != nil {
			return runtime.Page[Event]{}, err
		}
		return runtime.Page[Event]{Items: r.Events, HasMore: runtime.Some(r.HasMore)}, nil
	})
}

func failed[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}

// Folder folds events into a state.
type Folder[S any] interface {
	Fold(state S, e *Event) (S, error)
}

// FolderFunc adapts a function to Folder.
type FolderFunc[S any] func(state S, e *Event) (S, error)

// Fold calls f.
func (f FolderFunc[S]) Fold(state S, e *Event) (S, error) { return f(state, e) }

// FoldEvents folds the events q selects (all of them, or q.Limit) into a
// state, in order, page by page in constant memory, and returns the final
// state and how many events it folded: n == 0 tells an empty result from a
// fold that produced the zero state.
func FoldEvents[S any](ctx context.Context, src EventSource, q Query, initial S, f Folder[S], opts ...Option) (state S, n int64, err error) {
	return Fold(src.Events(ctx, q, opts...), initial, func(s S, e Event) (S, error) {
		s, err := f.Fold(s, &e)
		if err != nil {
			return s, fmt.Errorf("event %s (%s): %w", e.ID, e.EventType, err)
		}
		return s, nil
	})
}

// Fold applies f to every item of seq in order, starting from initial, and
// returns the final state and the number of items folded, so an empty result
// (n == 0) is distinguishable from a fold that produced the zero state. It
// holds one item at a time: memory stays flat however many items there are.
// It stops at the first error, from seq or from f.
func Fold[S, T any](seq iter.Seq2[T, error], initial S, f func(S, T) (S, error)) (state S, n int64, err error) {
	state = initial
	for item, err := range seq {
		if err != nil {
			return state, n, err
		}
		if state, err = f(state, item); err != nil {
			return state, n, fmt.Errorf("allsource: fold item %d: %w", n+1, err)
		}
		n++
	}
	return state, n, nil
}
