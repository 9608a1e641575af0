package coretest

// Discovery: stats, streams and event types (reference §5.4).

import (
	"net/http"
	"sort"
)

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
