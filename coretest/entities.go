package coretest

// Entities: list, duplicates, state and snapshot (reference §5.4).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

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
