package coretest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// coreVersion is the Core release whose behaviour the server follows.
const coreVersion = "0.24.0"

// coreHandler routes Core's operations behind Core's CORS layer. A path no
// operation serves gets 404 with an empty body and a known path asked with
// another method 405, as Core's router answers (reference §14 #8).
func (s *Server) coreHandler() http.Handler {
	mux := http.NewServeMux()
	paths := http.NewServeMux() // the operations' paths, any method
	seen := make(map[string]bool)
	for _, op := range s.coreOperations() {
		s.register(mux, op)
		if !seen[op.pattern] {
			seen[op.pattern] = true
			paths.Handle(op.pattern, http.NotFoundHandler())
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := paths.Handler(r); pattern != "" {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	})
	return cors(mux)
}

// cors is Core's CORS layer, outside authentication (reference §14 #7):
// any origin, method and header, no credentials. A preflight gets 200; a
// response to a request with an Origin carries Access-Control-Allow-Origin.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "*")
			h.Set("Access-Control-Allow-Headers", "*")
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// coreOperations lists Core's operations, named by the spec's operationIds.
func (s *Server) coreOperations() []operation {
	ops := []operation{
		{id: "health", method: "GET", pattern: "/health", public: true, handle: s.handleHealth},
		{id: "ingestEvent", method: "POST", pattern: "/api/v1/events", write: true, handle: s.handleIngestEvent},
		{id: "ingestEvents", method: "POST", pattern: "/api/v1/events/batch", write: true, handle: s.handleIngestEvents},
		{id: "queryEvents", method: "GET", pattern: "/api/v1/events/query", handle: s.handleQueryEvents},
		{id: "streamEvents", method: "GET", pattern: "/api/v1/events/stream", streaming: true, handle: s.handleStream},
		{id: "getEvent", method: "GET", pattern: "/api/v1/events/{event_id}", handle: s.handleGetEvent},
		{id: "listEntities", method: "GET", pattern: "/api/v1/entities", handle: s.handleListEntities},
		{id: "detectDuplicates", method: "GET", pattern: "/api/v1/entities/duplicates", handle: s.handleDuplicates},
		{id: "getEntityState", method: "GET", pattern: "/api/v1/entities/{entity_id}/state", handle: s.handleEntityState},
		{id: "getEntitySnapshot", method: "GET", pattern: "/api/v1/entities/{entity_id}/snapshot", handle: s.handleEntitySnapshot},
		{id: "getStats", method: "GET", pattern: "/api/v1/stats", handle: s.handleStats},
		{id: "listStreams", method: "GET", pattern: "/api/v1/streams", handle: s.handleStreams},
		{id: "listEventTypes", method: "GET", pattern: "/api/v1/event-types", handle: s.handleEventTypes},
		{id: "listProjections", method: "GET", pattern: "/api/v1/projections", handle: s.handleListProjections},
		{id: "getProjection", method: "GET", pattern: "/api/v1/projections/{name}", handle: s.handleGetProjection},
		{id: "deleteProjection", method: "DELETE", pattern: "/api/v1/projections/{name}", write: true, handle: s.handleDeleteProjection},
		{id: "getProjectionStateSummary", method: "GET", pattern: "/api/v1/projections/{name}/state", handle: s.handleProjectionSummary},
		{id: "resetProjection", method: "POST", pattern: "/api/v1/projections/{name}/reset", write: true, handle: s.handleResetProjection},
		{id: "pauseProjection", method: "POST", pattern: "/api/v1/projections/{name}/pause", write: true, handle: s.handlePauseProjection},
		{id: "startProjection", method: "POST", pattern: "/api/v1/projections/{name}/start", write: true, handle: s.handleStartProjection},
		{id: "getProjectionEntityState", method: "GET", pattern: "/api/v1/projections/{name}/{entity_id}/state", handle: s.handleGetProjectionState},
		{id: "putProjectionEntityState", method: "PUT", pattern: "/api/v1/projections/{name}/{entity_id}/state", write: true, handle: s.handleSaveProjectionState},
		{id: "saveProjectionEntityState", method: "POST", pattern: "/api/v1/projections/{name}/{entity_id}/state", write: true, handle: s.handleSaveProjectionState},
		{id: "bulkGetProjectionStates", method: "POST", pattern: "/api/v1/projections/{name}/bulk", write: true, handle: s.handleBulkGet},
		{id: "bulkSaveProjectionStates", method: "POST", pattern: "/api/v1/projections/{name}/bulk/save", write: true, handle: s.handleBulkSave},
		{id: "registerConsumer", method: "POST", pattern: "/api/v1/consumers", handle: s.handleRegisterConsumer},
		{id: "getConsumer", method: "GET", pattern: "/api/v1/consumers/{consumer_id}", handle: s.handleGetConsumer},
		{id: "pollConsumerEvents", method: "GET", pattern: "/api/v1/consumers/{consumer_id}/events", handle: s.handlePollConsumer},
		{id: "ackConsumer", method: "POST", pattern: "/api/v1/consumers/{consumer_id}/ack", handle: s.handleAckConsumer},
	}
	for i := range ops {
		ops[i].svc = serviceCore
	}
	return ops
}

// handleHealth serves GET /health (reference §5.1).
func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request, _ *caller) {
	role := "leader"
	if s.cfg.follower {
		role = "follower"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status":         "healthy",
		"service":        "allsource-core",
		"version":        coreVersion,
		"role":           role,
		"system_streams": map[string]string{"status": "disabled", "mode": "in-memory"},
		"replication":    map[string]string{"edition": "community", "status": "not_available"},
	})
}

// ingestRequest is IngestEventRequest (reference §5.2). The required
// strings are plain strings, which decode with one allocation fewer than
// pointers: an empty one is told apart from a missing one by
// ingestPresence, on that rare path only.
type ingestRequest struct {
	EventType       string          `json:"event_type"`
	EntityID        string          `json:"entity_id"`
	Payload         json.RawMessage `json:"payload"`
	TenantID        *string         `json:"tenant_id"`
	Metadata        json.RawMessage `json:"metadata"`
	ExpectedVersion *uint64         `json:"expected_version"`
}

// ingestPresence records which members of an ingest request are present.
type ingestPresence struct {
	EventType *json.RawMessage `json:"event_type"`
	EntityID  *json.RawMessage `json:"entity_id"`
	Payload   *json.RawMessage `json:"payload"`
}

// missing returns the first required member that is absent.
func (p *ingestPresence) missing() string {
	switch {
	case p.EventType == nil:
		return "event_type"
	case p.EntityID == nil:
		return "entity_id"
	case p.Payload == nil:
		return "payload"
	}
	return ""
}

// maybeMissing reports whether r may lack a required member.
func (r *ingestRequest) maybeMissing() bool {
	return r.EventType == "" || r.EntityID == "" || r.Payload == nil
}

// toNewEvent validates r (reference §4.2) and returns the event to append,
// or the whole error text of Core's 400 body: "Invalid input: ..." for the
// value objects' rules, then the store's reserved-type check.
func (r *ingestRequest) toNewEvent() (newEvent, string) {
	ne := newEvent{eventType: r.EventType, entityID: r.EntityID, tenantID: "default", expectedVersion: r.ExpectedVersion}
	if r.TenantID != nil {
		ne.tenantID = *r.TenantID
	}
	if msg := validateEventType(ne.eventType); msg != "" {
		return ne, invalidInput + msg
	}
	if msg := validateEntityID(ne.entityID); msg != "" {
		return ne, invalidInput + msg
	}
	if msg := validateTenantID(ne.tenantID); msg != "" {
		return ne, invalidInput + msg
	}
	p, err := compactJSON(r.Payload)
	if err != nil {
		return ne, invalidInput + "payload is not valid JSON"
	}
	ne.payload = p
	if len(r.Metadata) > 0 && string(r.Metadata) != "null" {
		m, err := compactJSON(r.Metadata)
		if err != nil {
			return ne, invalidInput + "metadata is not valid JSON"
		}
		ne.metadata = m
	}
	if strings.HasPrefix(ne.eventType, "_system.") {
		return ne, reservedTypeError
	}
	return ne, ""
}

// readJSONBody decodes the request body into v like Axum's Json extractor,
// writing its plain-text rejection and returning false on failure. m lists
// the struct members of v that may not repeat.
func readJSONBody(w http.ResponseWriter, r *http.Request, v any, m members) bool {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		writeText(w, http.StatusUnsupportedMediaType, "Expected request with `Content-Type: application/json`")
		return false
	}
	body := bufferedBytes(r)
	if body == nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			writeText(w, http.StatusBadRequest, "Failed to buffer the request body")
			return false
		}
		body = b
	}
	if err := json.Unmarshal(body, v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || len(body) == 0 {
			writeText(w, http.StatusBadRequest, "Failed to parse the request body as JSON: "+err.Error())
			return false
		}
		writeText(w, http.StatusUnprocessableEntity, "Failed to deserialize the JSON body into the target type: "+err.Error())
		return false
	}
	if dup := duplicateMember(body, m); dup != "" {
		writeText(w, http.StatusUnprocessableEntity, "Failed to deserialize the JSON body into the target type: "+dup)
		return false
	}
	return true
}

// bufferedBytes returns the request body that serveOp read, or nil.
func bufferedBytes(r *http.Request) []byte {
	if bb, ok := r.Body.(*bufferedBody); ok {
		return bb.b
	}
	return nil
}

func missingFieldRejection(w http.ResponseWriter, field string) {
	writeText(w, http.StatusUnprocessableEntity,
		fmt.Sprintf("Failed to deserialize the JSON body into the target type: missing field `%s`", field))
}

// ingestResponse is the body of a successful ingest.
type ingestResponse struct {
	EventID   string `json:"event_id"`
	Timestamp string `json:"timestamp"`
	Version   uint32 `json:"version"`
}

// handleIngestEvent serves POST /api/v1/events (reference §5.2).
func (s *Server) handleIngestEvent(w http.ResponseWriter, r *http.Request, _ *caller) {
	var req ingestRequest
	if !readJSONBody(w, r, &req, ingestMembers) {
		return
	}
	if req.maybeMissing() {
		var p ingestPresence
		_ = json.Unmarshal(bufferedBytes(r), &p) // decoded once already
		if f := p.missing(); f != "" {
			missingFieldRejection(w, f)
			return
		}
	}
	ne, msg := req.toNewEvent()
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	res, err := s.ingest([]newEvent{ne})
	if len(res) == 0 {
		s.writeIngestError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ingestResponse{EventID: formatUUID(res[0].id), Timestamp: formatTimestamp(res[0].ts), Version: res[0].version})
}

// handleIngestEvents serves POST /api/v1/events/batch (reference §5.2):
// items are appended in order and the first failure ends the request with
// its error, earlier items staying stored.
func (s *Server) handleIngestEvents(w http.ResponseWriter, r *http.Request, _ *caller) {
	var req struct {
		Events *[]ingestRequest `json:"events"`
	}
	if !readJSONBody(w, r, &req, batchMembers) {
		return
	}
	if req.Events == nil {
		missingFieldRejection(w, "events")
		return
	}
	items := *req.Events
	for i := range items {
		if !items[i].maybeMissing() {
			continue
		}
		var p struct {
			Events []ingestPresence `json:"events"`
		}
		_ = json.Unmarshal(bufferedBytes(r), &p) // decoded once already
		for j := i; j < len(p.Events); j++ {
			if f := p.Events[j].missing(); f != "" {
				writeText(w, http.StatusUnprocessableEntity,
					fmt.Sprintf("Failed to deserialize the JSON body into the target type: events[%d]: missing field `%s`", j, f))
				return
			}
		}
		break
	}
	evs := make([]newEvent, 0, len(items))
	var invalid string
	for i := range items {
		ne, msg := items[i].toNewEvent()
		if msg != "" {
			invalid = msg
			break
		}
		evs = append(evs, ne)
	}
	res, err := s.ingest(evs)
	if err != nil {
		s.writeIngestError(w, err)
		return
	}
	if invalid != "" {
		writeError(w, http.StatusBadRequest, invalid)
		return
	}
	b := make([]byte, 0, 64+len(res)*110)
	b = append(b, `{"total":`...)
	b = appendInt(b, int64(len(res)))
	b = append(b, `,"ingested":`...)
	b = appendInt(b, int64(len(res)))
	b = append(b, `,"events":[`...)
	for i, a := range res {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"event_id":"`...)
		b = append(b, formatUUID(a.id)...)
		b = append(b, `","timestamp":"`...)
		b = appendTimestamp(b, time.Unix(0, a.ts))
		b = append(b, `","version":`...)
		b = appendInt(b, int64(a.version))
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	writeRawJSON(w, http.StatusOK, b)
}

func (s *Server) writeIngestError(w http.ResponseWriter, err error) {
	var vc *versionConflict
	if errors.As(err, &vc) {
		writeJSON(w, http.StatusConflict, map[string]any{
			"error":            "version_conflict",
			"expected_version": vc.expected,
			"current_version":  vc.current,
		})
		return
	}
	writeError(w, http.StatusInternalServerError, "Storage error: "+err.Error())
}

// ingest appends evs in order, stopping at the first failure. It returns
// the appended events and the error that stopped it. Appended events are
// persisted and broadcast to streams before it returns.
func (s *Server) ingest(evs []newEvent) ([]appendResult, error) {
	res := make([]appendResult, 0, len(evs))
	var err error
	s.store.mu.Lock()
	first := s.store.n
	for i := range evs {
		a, e := s.store.append(&evs[i])
		if e != nil {
			err = e
			break
		}
		res = append(res, a)
	}
	last := s.store.n
	if last > first {
		if s.persist != nil {
			s.persist.appendEvents(s.store, first, last)
		}
		// Publish under the lock so that streams see events in position
		// order when batches are ingested concurrently.
		s.hub.publish(first, last)
	}
	s.store.mu.Unlock()
	if s.persist != nil && last > first {
		if perr := s.persist.flushEvents(); perr != nil && err == nil {
			err = perr
		}
	}
	return res, err
}

// queryRejection writes Axum's plain-text rejection of a bad query string.
func queryRejection(w http.ResponseWriter, detail string) {
	writeText(w, http.StatusBadRequest, "Failed to deserialize query string: "+detail)
}

// params reads query parameters with Axum's semantics: unknown ones are
// ignored; a repeated key is rejected.
type params struct {
	v   url.Values
	err string
}

func newParams(r *http.Request) *params {
	p := &params{v: r.URL.Query()}
	return p
}

func (p *params) str(name string) (string, bool) {
	vals, ok := p.v[name]
	if !ok {
		return "", false
	}
	if len(vals) > 1 && p.err == "" {
		p.err = fmt.Sprintf("duplicate field `%s`", name)
	}
	return vals[0], true
}

func (p *params) uint(name string) (int, bool) {
	s, ok := p.str(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		if p.err == "" {
			p.err = fmt.Sprintf("%s: invalid digit found in string", name)
		}
		return 0, false
	}
	return int(min(n, uint64(int(^uint(0)>>1)))), true
}

func (p *params) time(name string) (int64, bool) {
	s, ok := p.str(name)
	if !ok {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if p.err == "" {
			p.err = fmt.Sprintf("%s: input contains invalid characters", name)
		}
		return 0, false
	}
	return t.UnixNano(), true
}

// order parses an order parameter (case-insensitive asc/desc). It returns
// the message of Core's 400 on anything else.
func parseOrder(v string) (desc bool, msg string) {
	switch strings.ToLower(v) {
	case "asc":
		return false, ""
	case "desc":
		return true, ""
	}
	return false, fmt.Sprintf("invalid 'order' value '%s': expected 'asc' or 'desc'", v)
}

// parsePayloadFilter parses payload_filter, a JSON object (reference §5.3).
func parsePayloadFilter(v string) (map[string]json.RawMessage, string) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &f); err != nil || f == nil {
		return nil, fmt.Sprintf("invalid 'payload_filter': expected a JSON object of field/value pairs, got '%s'", v)
	}
	return f, ""
}

// parseQuery reads the events query parameters; for the Query Service,
// limit defaults to 100.
func parseQuery(w http.ResponseWriter, r *http.Request, c *caller, qs bool) (query, bool) {
	q := newQuery()
	p := newParams(r)
	// Core falls back to the caller's tenant only when tenant_id is absent;
	// an empty one fails closed (reference §14 #9).
	var hasTenant bool
	q.tenant, hasTenant = p.str("tenant_id")
	if !hasTenant || qs && q.tenant == "" {
		q.tenant = c.tenant
	}
	q.entityID, q.hasEntity = p.str("entity_id")
	q.eventType, _ = p.str("event_type")
	q.typePrefix, _ = p.str("event_type_prefix")
	if ex, ok := p.str("exclude_event_type_prefix"); ok {
		for part := range strings.SplitSeq(ex, ",") {
			if part = strings.TrimSpace(part); part != "" {
				q.excludes = append(q.excludes, part)
			}
		}
	}
	if t, ok := p.time("since"); ok {
		q.since = t
	}
	if t, ok := p.time("until"); ok {
		q.until = t
	}
	if t, ok := p.time("as_of"); ok && t < q.until {
		q.until = t
	}
	if n, ok := p.uint("limit"); ok {
		q.limit = n
	} else if qs {
		q.limit = 100
	}
	if n, ok := p.uint("offset"); ok {
		q.offset = n
	}
	order, hasOrder := p.str("order")
	pf, hasPF := p.str("payload_filter")
	integrity, hasIntegrity := p.str("integrity")
	if p.err != "" {
		if qs {
			writeQueryError(w, http.StatusBadRequest, p.err)
		} else {
			queryRejection(w, p.err)
		}
		return q, false
	}
	if hasOrder {
		desc, msg := parseOrder(order)
		if msg != "" {
			writeInvalidFor(w, qs, msg)
			return q, false
		}
		q.desc = desc
	}
	if hasPF {
		f, msg := parsePayloadFilter(pf)
		if msg != "" {
			writeInvalidFor(w, qs, msg)
			return q, false
		}
		q.payloadFilter = f
	}
	if hasIntegrity && !qs {
		if msg := checkIntegrity(r.URL.Query(), integrity); msg != "" {
			writeInvalid(w, msg)
			return q, false
		}
		q.integrity = integrity
	}
	return q, true
}

// integrityProtocol is the strict archive read of reference §5.3.
const integrityProtocol = "retained-entity-v1"

// checkIntegrity enforces the rules of a strict archive read: tenant_id,
// entity_id and a limit of 1 to 1001, no other filter, no offset, no desc.
func checkIntegrity(v url.Values, protocol string) string {
	if protocol != integrityProtocol {
		return fmt.Sprintf("unknown integrity protocol '%s'", protocol)
	}
	if v.Get("tenant_id") == "" || v.Get("entity_id") == "" {
		return "integrity reads require tenant_id and entity_id"
	}
	limit, err := strconv.Atoi(v.Get("limit"))
	if err != nil || limit < 1 || limit > 1001 {
		return "integrity reads require a limit between 1 and 1001"
	}
	for _, k := range []string{"event_type", "event_type_prefix", "exclude_event_type_prefix", "since", "until", "as_of", "payload_filter", "offset"} {
		if v.Has(k) {
			return fmt.Sprintf("integrity reads do not accept %s", k)
		}
	}
	if strings.EqualFold(v.Get("order"), "desc") {
		return "integrity reads do not accept order=desc"
	}
	return ""
}

func writeInvalidFor(w http.ResponseWriter, qs bool, msg string) {
	if qs {
		writeQueryError(w, http.StatusBadRequest, msg)
		return
	}
	writeInvalid(w, msg)
}

// handleQueryEvents serves GET /api/v1/events/query (reference §5.3).
func (s *Server) handleQueryEvents(w http.ResponseWriter, r *http.Request, c *caller) {
	q, ok := parseQuery(w, r, c, false)
	if !ok {
		return
	}
	writeRawJSON(w, http.StatusOK, s.runQuery(&q))
}

// runQuery executes q and encodes QueryEventsResponse.
func (s *Server) runQuery(q *query) []byte {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	if q.tenant == "" {
		// Core fails closed before it looks at the entity: no
		// entity_version (reference §14 #9).
		return []byte(`{"events":[],"count":0,"total_count":0,"has_more":false}`)
	}
	res := s.store.run(q)
	b := make([]byte, 0, 64+len(res.page)*200)
	b = append(b, `{"events":[`...)
	for i, p := range res.page {
		if i > 0 {
			b = append(b, ',')
		}
		ev := s.store.event(int(p))
		b = appendEventJSON(b, &ev)
	}
	b = append(b, `],"count":`...)
	b = appendInt(b, int64(len(res.page)))
	b = append(b, `,"total_count":`...)
	b = appendInt(b, int64(res.total))
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, q.offset+len(res.page) < res.total)
	if q.hasEntity {
		b = append(b, `,"entity_version":`...)
		b = appendInt(b, res.entityVersion)
	}
	if q.integrity != "" {
		b = append(b, `,"archive_integrity":{"protocol":`...)
		b = appendJSONString(b, q.integrity)
		b = append(b, `,"tenant_id":`...)
		b = appendJSONString(b, q.tenant)
		b = append(b, `,"entity_id":`...)
		b = appendJSONString(b, q.entityID)
		b = append(b, '}')
	}
	return append(b, '}')
}

// handleGetEvent serves GET /api/v1/events/{event_id} (reference §5.4).
func (s *Server) handleGetEvent(w http.ResponseWriter, r *http.Request, _ *caller) {
	raw := r.PathValue("event_id")
	id, ok := parseUUID(raw)
	if !ok {
		writeText(w, http.StatusBadRequest, "Invalid URL: Cannot parse `event_id` with value `"+raw+"` to a `Uuid`")
		return
	}
	s.store.mu.RLock()
	pos := s.store.findByID(id)
	var b []byte
	if pos >= 0 {
		ev := s.store.event(pos)
		b = append(b, `{"event":`...)
		b = appendEventJSON(b, &ev)
		b = append(b, `,"found":true}`...)
	}
	s.store.mu.RUnlock()
	if pos < 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Entity not found: Event '%s' not found", raw))
		return
	}
	writeRawJSON(w, http.StatusOK, b)
}

// entitySummary is one row of GET /api/v1/entities.
type entitySummary struct {
	EntityID      string `json:"entity_id"`
	EventCount    int    `json:"event_count"`
	LastEventType string `json:"last_event_type"`
	LastEventAt   string `json:"last_event_at"`
	lastTS        int64
}

// handleListEntities serves GET /api/v1/entities (reference §5.4): every
// tenant, entities with at least one event that passes the filters,
// ordered by most recent activity (desc, the default) or least recent
// (asc), ties broken by entity_id.
func (s *Server) handleListEntities(w http.ResponseWriter, r *http.Request, _ *caller) {
	p := newParams(r)
	prefix, _ := p.str("event_type_prefix")
	pfRaw, hasPF := p.str("payload_filter")
	limit, hasLimit := p.uint("limit")
	offset, _ := p.uint("offset")
	order, hasOrder := p.str("order")
	if p.err != "" {
		queryRejection(w, p.err)
		return
	}
	desc := true
	if hasOrder {
		d, msg := parseOrder(order)
		if msg != "" {
			writeInvalid(w, msg)
			return
		}
		desc = d
	}
	var filter map[string]any
	if hasPF {
		f, msg := parsePayloadFilter(pfRaw)
		if msg != "" {
			writeInvalid(w, msg)
			return
		}
		filter = decodeFilter(f)
	}
	s.store.mu.RLock()
	byID := make(map[string]*entitySummary)
	var rows []*entitySummary
	st := s.store
	for ei := range st.entities {
		e := &st.entities[ei]
		for _, pos := range e.positions {
			rec := st.rec(int(pos))
			if prefix != "" && !strings.HasPrefix(st.types[rec.typ].name, prefix) {
				continue
			}
			if filter != nil && !payloadMatches(st.payload(rec), filter) {
				continue
			}
			row := byID[e.id]
			if row == nil {
				row = &entitySummary{EntityID: e.id}
				byID[e.id] = row
				rows = append(rows, row)
			}
			row.EventCount++
			if rec.ts >= row.lastTS {
				row.lastTS = rec.ts
				row.LastEventType = st.types[rec.typ].name
			}
		}
	}
	s.store.mu.RUnlock()
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.lastTS != b.lastTS {
			if desc {
				return a.lastTS > b.lastTS
			}
			return a.lastTS < b.lastTS
		}
		return a.EntityID < b.EntityID
	})
	total := len(rows)
	rows = window(rows, offset, limit, hasLimit)
	for _, row := range rows {
		row.LastEventAt = formatTimestamp(row.lastTS)
	}
	if rows == nil {
		rows = []*entitySummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"entities": rows,
		"total":    total,
		"has_more": hasLimit && offset+len(rows) < total,
	})
}

// window applies offset and (when hasLimit) limit to rows.
func window[T any](rows []T, offset, limit int, hasLimit bool) []T {
	if offset >= len(rows) {
		return rows[:0]
	}
	rows = rows[offset:]
	if hasLimit && limit < len(rows) {
		rows = rows[:limit]
	}
	return rows
}

// duplicateGroup is one row of GET /api/v1/entities/duplicates.
type duplicateGroup struct {
	Key       map[string]json.RawMessage `json:"key"`
	EntityIDs []string                   `json:"entity_ids"`
	Count     int                        `json:"count"`
	sortKey   string
}

// handleDuplicates serves GET /api/v1/entities/duplicates (reference §5.4):
// entities whose latest event of the prefix has the same values for the
// group_by payload fields.
func (s *Server) handleDuplicates(w http.ResponseWriter, r *http.Request, _ *caller) {
	p := newParams(r)
	prefix, hasPrefix := p.str("event_type_prefix")
	groupBy, hasGroup := p.str("group_by")
	limit, hasLimit := p.uint("limit")
	offset, _ := p.uint("offset")
	switch {
	case p.err != "":
		queryRejection(w, p.err)
		return
	case !hasPrefix:
		queryRejection(w, "missing field `event_type_prefix`")
		return
	case !hasGroup:
		queryRejection(w, "missing field `group_by`")
		return
	}
	var fields []string
	for f := range strings.SplitSeq(groupBy, ",") {
		if f = strings.TrimSpace(f); f != "" {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		writeInvalid(w, "group_by must name at least one payload field")
		return
	}
	type latest struct {
		ts      int64
		payload []byte
	}
	s.store.mu.RLock()
	st := s.store
	latestByID := make(map[string]latest)
	for ei := range st.entities {
		e := &st.entities[ei]
		for i := len(e.positions) - 1; i >= 0; i-- {
			rec := st.rec(int(e.positions[i]))
			if !strings.HasPrefix(st.types[rec.typ].name, prefix) {
				continue
			}
			if cur, ok := latestByID[e.id]; !ok || rec.ts > cur.ts {
				latestByID[e.id] = latest{ts: rec.ts, payload: st.payload(rec)}
			}
			break
		}
	}
	s.store.mu.RUnlock()
	groups := make(map[string]*duplicateGroup)
	for id, l := range latestByID {
		var obj map[string]json.RawMessage
		_ = json.Unmarshal(l.payload, &obj)
		key := make(map[string]json.RawMessage, len(fields))
		var sk strings.Builder
		for _, f := range fields {
			v, ok := obj[f]
			if !ok {
				v = json.RawMessage("null")
			}
			key[f] = v
			sk.WriteString(strconv.Quote(f))
			sk.WriteByte('=')
			sk.Write(v)
			sk.WriteByte(';')
		}
		g := groups[sk.String()]
		if g == nil {
			g = &duplicateGroup{Key: key, sortKey: sk.String()}
			groups[sk.String()] = g
		}
		g.EntityIDs = append(g.EntityIDs, id)
		g.Count++
	}
	var rows []*duplicateGroup
	for _, g := range groups {
		if g.Count > 1 {
			sort.Strings(g.EntityIDs)
			rows = append(rows, g)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].sortKey < rows[j].sortKey
	})
	total := len(rows)
	rows = window(rows, offset, limit, hasLimit)
	if rows == nil {
		rows = []*duplicateGroup{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"duplicates": rows,
		"total":      total,
		"has_more":   hasLimit && offset+len(rows) < total,
	})
}

// entityEvents returns the positions of entityID's events in tenant, or in
// every tenant when tenant is "", in log order. The caller holds the lock.
func (s *store) entityEvents(tenant, entityID string) []int32 {
	if tenant != "" {
		if e := s.lookupEntity(tenant, entityID); e >= 0 {
			return s.entities[e].positions
		}
		return nil
	}
	var all []int32
	n := 0
	for t := range s.tenants {
		if e, ok := s.entIdx[entityKey{uint32(t), entityID}]; ok {
			all = append(all, s.entities[e].positions...)
			n++
		}
	}
	if n > 1 {
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	}
	return all
}

// historyItem is one entry of an entity state's history.
type historyItem struct {
	EventID   string          `json:"event_id"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Payload   json.RawMessage `json:"payload"`
}

// mergePayloads shallow-merges the object payloads at positions.
func (s *store) mergePayloads(positions []int32) map[string]json.RawMessage {
	state := make(map[string]json.RawMessage)
	for _, p := range positions {
		rec := s.rec(int(p))
		var obj map[string]json.RawMessage
		if json.Unmarshal(s.payload(rec), &obj) == nil {
			for k, v := range obj {
				state[k] = v
			}
		}
	}
	return state
}

// entityState builds the body of GET /entities/{id}/state, or nil when the
// entity has no events up to asOf.
func (s *Server) entityState(tenant, entityID string, asOf int64, hasAsOf bool, asOfRaw string) map[string]any {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	positions := s.store.entityEvents(tenant, entityID)
	if hasAsOf {
		positions = positions[:s.store.searchTS(positions, asOf+1)]
	}
	if len(positions) == 0 {
		return nil
	}
	history := make([]historyItem, len(positions))
	for i, p := range positions {
		ev := s.store.event(int(p))
		history[i] = historyItem{EventID: ev.ID, Type: ev.EventType, Timestamp: formatTimestamp(ev.Timestamp.UnixNano()), Payload: ev.Payload}
	}
	var asOfVal any
	if hasAsOf {
		asOfVal = asOfRaw
	}
	return map[string]any{
		"entity_id":     entityID,
		"last_updated":  history[len(history)-1].Timestamp,
		"event_count":   len(positions),
		"as_of":         asOfVal,
		"current_state": s.store.mergePayloads(positions),
		"history":       history,
	}
}

// handleEntityState serves GET /api/v1/entities/{entity_id}/state.
func (s *Server) handleEntityState(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("entity_id")
	p := newParams(r)
	tenant, _ := p.str("tenant_id")
	asOfRaw, _ := p.str("as_of")
	asOf, hasAsOf := p.time("as_of")
	if p.err != "" {
		queryRejection(w, p.err)
		return
	}
	body := s.entityState(tenant, id, asOf, hasAsOf, asOfRaw)
	if body == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Entity not found: %s", id))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// handleEntitySnapshot serves GET /api/v1/entities/{entity_id}/snapshot:
// with a tenant, the entity's state (as of as_of when given, reference
// §14 #10); without, the entity_snapshots projection's state.
func (s *Server) handleEntitySnapshot(w http.ResponseWriter, r *http.Request, _ *caller) {
	id := r.PathValue("entity_id")
	p := newParams(r)
	tenant, hasTenant := p.str("tenant_id")
	asOfRaw, _ := p.str("as_of")
	asOf, hasAsOf := p.time("as_of")
	if p.err != "" {
		queryRejection(w, p.err)
		return
	}
	if hasTenant {
		body := s.entityState(tenant, id, asOf, hasAsOf, asOfRaw)
		if body == nil {
			writeError(w, http.StatusNotFound, fmt.Sprintf("Entity not found: %s", id))
			return
		}
		writeJSON(w, http.StatusOK, body)
		return
	}
	state, ok := s.registeredState("entity_snapshots", id)
	if !ok || state == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Entity not found: No snapshot found for entity: %s", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entity_id": id, "snapshot": state, "from_projection": "entity_snapshots"})
}

// handleStats serves GET /api/v1/stats (reference §5.4).
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request, _ *caller) {
	p := newParams(r)
	tenant, hasTenant := p.str("tenant_id")
	if p.err != "" {
		queryRejection(w, p.err)
		return
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	st := s.store
	if !hasTenant {
		entities := make(map[string]struct{}, len(st.entities))
		for i := range st.entities {
			entities[st.entities[i].id] = struct{}{}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"total_events":      st.n,
			"total_entities":    len(entities),
			"total_event_types": len(st.types),
			"total_ingested":    st.n,
		})
		return
	}
	body := map[string]any{
		"total_events": 0, "total_entities": 0, "total_event_types": 0, "total_ingested": 0,
		"event_types": map[string]int{}, "oldest_event": nil, "newest_event": nil,
	}
	if t, ok := st.tenIdx[tenant]; ok {
		positions := st.tenants[t].positions
		types := make(map[string]int)
		for _, p := range positions {
			types[st.types[st.rec(int(p)).typ].name]++
		}
		entities := 0
		for i := range st.entities {
			if st.entities[i].tenant == t {
				entities++
			}
		}
		body["total_events"] = len(positions)
		body["total_ingested"] = len(positions)
		body["total_entities"] = entities
		body["total_event_types"] = len(types)
		body["event_types"] = types
		if len(positions) > 0 {
			body["oldest_event"] = formatTimestamp(st.rec(int(positions[0])).ts)
			body["newest_event"] = formatTimestamp(st.rec(int(positions[len(positions)-1])).ts)
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// countRow is a row of /streams and /event-types.
type countRow struct {
	name   string
	count  int
	lastTS int64
}

// tenantRows aggregates the events of a tenant per entity (byType false)
// or per event type.
func (s *store) tenantRows(tenant string, byType bool) []countRow {
	t, ok := s.tenIdx[tenant]
	if !ok {
		return nil
	}
	idx := make(map[uint32]int)
	var rows []countRow
	for _, p := range s.tenants[t].positions {
		rec := s.rec(int(p))
		k := rec.entity
		if byType {
			k = rec.typ
		}
		i, ok := idx[k]
		if !ok {
			name := s.entities[rec.entity].id
			if byType {
				name = s.types[rec.typ].name
			}
			i = len(rows)
			idx[k] = i
			rows = append(rows, countRow{name: name})
		}
		rows[i].count++
		rows[i].lastTS = rec.ts
	}
	return rows
}

// handleStreams serves GET /api/v1/streams: the tenant's entities, most
// recently active first; empty without a tenant.
func (s *Server) handleStreams(w http.ResponseWriter, r *http.Request, c *caller) {
	s.listRows(w, r, c, false)
}

// handleEventTypes serves GET /api/v1/event-types: the tenant's event
// types, most frequent first; empty without a tenant.
func (s *Server) handleEventTypes(w http.ResponseWriter, r *http.Request, c *caller) {
	s.listRows(w, r, c, true)
}

func (s *Server) listRows(w http.ResponseWriter, r *http.Request, c *caller, byType bool) {
	p := newParams(r)
	tenant, _ := p.str("tenant_id")
	limit, hasLimit := p.uint("limit")
	offset, _ := p.uint("offset")
	if p.err != "" {
		queryRejection(w, p.err)
		return
	}
	if tenant == "" {
		tenant = c.tenant
	}
	var rows []countRow
	if tenant != "" {
		s.store.mu.RLock()
		rows = s.store.tenantRows(tenant, byType)
		s.store.mu.RUnlock()
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if byType && a.count != b.count {
			return a.count > b.count
		}
		if !byType && a.lastTS != b.lastTS {
			return a.lastTS > b.lastTS
		}
		return a.name < b.name
	})
	total := len(rows)
	rows = window(rows, offset, limit, hasLimit)
	out := make([]map[string]any, len(rows))
	idKey, listKey := "stream_id", "streams"
	if byType {
		idKey, listKey = "event_type", "event_types"
	}
	for i, row := range rows {
		out[i] = map[string]any{idKey: row.name, "event_count": row.count, "last_event_at": formatTimestamp(row.lastTS)}
	}
	writeJSON(w, http.StatusOK, map[string]any{listKey: out, "total": total})
}
