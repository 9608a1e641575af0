package coretest

// Ingest: POST /api/v1/events and /api/v1/events/batch (reference §5.2),
// and the JSON body reading they share with the other JSON-body routes.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

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
