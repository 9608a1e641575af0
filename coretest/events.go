package coretest

// Event reads: GET /api/v1/events/query and /api/v1/events/{event_id}
// (reference §5.3, §5.4).

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

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
