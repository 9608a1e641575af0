package coretest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Built-in projections Core registers (reference §5.5).
const (
	projEntitySnapshots = "entity_snapshots"
	projEventCounters   = "event_counters"
)

// registeredProjection is a server-side projection. Its state is computed
// from the log on demand; a paused projection sees only the events stored
// before it was paused.
type registeredProjection struct {
	name     string
	paused   bool
	pausedAt int // events stored when paused
}

// projectionStore holds the registered projections and the projection
// state store (the "KV", keyed by projection name and entity id, with no
// tenant dimension, as in Core).
type projectionStore struct {
	mu         sync.RWMutex
	registered map[string]*registeredProjection
	kv         map[string]map[string]json.RawMessage
}

func newProjectionStore() *projectionStore {
	return &projectionStore{
		registered: map[string]*registeredProjection{
			projEntitySnapshots: {name: projEntitySnapshots},
			projEventCounters:   {name: projEventCounters},
		},
		kv: make(map[string]map[string]json.RawMessage),
	}
}

func (p *projectionStore) put(name, entityID string, state json.RawMessage) {
	m := p.kv[name]
	if m == nil {
		m = make(map[string]json.RawMessage)
		p.kv[name] = m
	}
	m[entityID] = state
}

// registeredState returns the state a registered projection holds for key,
// and whether the projection is registered and has state for it.
func (s *Server) registeredState(name, key string) (any, bool) {
	s.projections.mu.RLock()
	rp := s.projections.registered[name]
	var limit = -1
	if rp != nil && rp.paused {
		limit = rp.pausedAt
	}
	s.projections.mu.RUnlock()
	if rp == nil {
		return nil, false
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	st := s.store
	if limit < 0 {
		limit = st.n
	}
	switch name {
	case projEntitySnapshots:
		var positions []int32
		for _, p := range st.entityEvents("", key) {
			if int(p) < limit {
				positions = append(positions, p)
			}
		}
		if len(positions) == 0 {
			return nil, false
		}
		return st.mergePayloads(positions), true
	case projEventCounters:
		ty, ok := st.typeIdx[key]
		if !ok {
			return nil, false
		}
		n := sort.Search(len(st.types[ty].positions), func(i int) bool { return int(st.types[ty].positions[i]) >= limit })
		if n == 0 {
			return nil, false
		}
		return n, true
	}
	return nil, false
}

type projectionInfo struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Status string `json:"status"`
}

func (rp *registeredProjection) status() string {
	if rp.paused {
		return "paused"
	}
	return "running"
}

// handleListProjections serves GET /api/v1/projections.
func (s *Server) handleListProjections(w http.ResponseWriter, _ *http.Request, _ *caller) {
	s.projections.mu.RLock()
	list := make([]projectionInfo, 0, len(s.projections.registered))
	for _, rp := range s.projections.registered {
		// Core formats the type with Rust's Debug, so it carries quotes.
		list = append(list, projectionInfo{Name: rp.name, Type: fmt.Sprintf("%q", rp.name), Status: rp.status()})
	}
	s.projections.mu.RUnlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"projections": list, "total": len(list)})
}

func projectionNotFound(w http.ResponseWriter, name string) {
	writeError(w, http.StatusNotFound, fmt.Sprintf("Entity not found: Projection '%s' not found", name))
}

// handleGetProjection serves GET /api/v1/projections/{name}.
func (s *Server) handleGetProjection(w http.ResponseWriter, r *http.Request, _ *caller) {
	name := r.PathValue("name")
	s.projections.mu.RLock()
	_, ok := s.projections.registered[name]
	s.projections.mu.RUnlock()
	if !ok {
		projectionNotFound(w, name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "found": true})
}

// handleDeleteProjection serves DELETE /api/v1/projections/{name}: it
// unregisters the projection and clears its state-store entries.
func (s *Server) handleDeleteProjection(w http.ResponseWriter, r *http.Request, _ *caller) {
	name := r.PathValue("name")
	s.projections.mu.Lock()
	_, ok := s.projections.registered[name]
	if ok {
		delete(s.projections.registered, name)
		delete(s.projections.kv, name)
	}
	var err error
	if ok && s.persist != nil {
		err = s.persist.writeProjection(projectionRecord{Op: "delete", Name: name})
	}
	s.projections.mu.Unlock()
	if !ok {
		projectionNotFound(w, name)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Storage error: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"projection": name, "deleted": true})
}

// handleResetProjection serves POST /api/v1/projections/{name}/reset: the
// projection is rebuilt from every stored event.
func (s *Server) handleResetProjection(w http.ResponseWriter, r *http.Request, _ *caller) {
	name := r.PathValue("name")
	s.store.mu.RLock()
	n := s.store.n
	s.store.mu.RUnlock()
	s.projections.mu.Lock()
	rp, ok := s.projections.registered[name]
	if ok && rp.paused {
		rp.pausedAt = n
	}
	s.projections.mu.Unlock()
	if !ok {
		projectionNotFound(w, name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"projection": name, "reset": true, "events_reprocessed": n})
}

// handlePauseProjection serves POST /api/v1/projections/{name}/pause.
func (s *Server) handlePauseProjection(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.setPaused(w, r.PathValue("name"), true)
}

// handleStartProjection serves POST /api/v1/projections/{name}/start.
func (s *Server) handleStartProjection(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.setPaused(w, r.PathValue("name"), false)
}

func (s *Server) setPaused(w http.ResponseWriter, name string, paused bool) {
	s.store.mu.RLock()
	n := s.store.n
	s.store.mu.RUnlock()
	s.projections.mu.Lock()
	rp, ok := s.projections.registered[name]
	if ok {
		if paused && !rp.paused {
			rp.pausedAt = n
		}
		rp.paused = paused
	}
	s.projections.mu.Unlock()
	if !ok {
		projectionNotFound(w, name)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"projection": name, "status": rp.status()})
}

type stateEntry struct {
	EntityID string          `json:"entity_id"`
	State    json.RawMessage `json:"state"`
}

// handleProjectionSummary serves GET /api/v1/projections/{name}/state: the
// state-store entries of the projection ordered by entity id.
func (s *Server) handleProjectionSummary(w http.ResponseWriter, r *http.Request, _ *caller) {
	name := r.PathValue("name")
	p := newParams(r)
	limit, hasLimit := p.uint("limit")
	offset, _ := p.uint("offset")
	prefix, _ := p.str("entity_id_prefix")
	if p.err != "" {
		queryRejection(w, p.err)
		return
	}
	s.projections.mu.RLock()
	var rows []stateEntry
	for id, st := range s.projections.kv[name] {
		if strings.HasPrefix(id, prefix) {
			rows = append(rows, stateEntry{EntityID: id, State: st})
		}
	}
	s.projections.mu.RUnlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i].EntityID < rows[j].EntityID })
	total := len(rows)
	rows = window(rows, offset, limit, hasLimit)
	if rows == nil {
		rows = []stateEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"projection": name,
		"states":     rows,
		"count":      len(rows),
		"total":      total,
		"has_more":   offset+len(rows) < total,
	})
}

// lookupState returns the state of entityID in projection name: a
// registered projection wins, the state store is the fallback.
func (s *Server) lookupState(name, entityID string) (any, bool) {
	if st, ok := s.registeredState(name, entityID); ok {
		return st, true
	}
	s.projections.mu.RLock()
	defer s.projections.mu.RUnlock()
	st, ok := s.projections.kv[name][entityID]
	if !ok {
		return nil, false
	}
	return st, true
}

// handleGetProjectionState serves GET /api/v1/projections/{name}/{entity_id}/state;
// it always answers 200.
func (s *Server) handleGetProjectionState(w http.ResponseWriter, r *http.Request, _ *caller) {
	name, id := r.PathValue("name"), r.PathValue("entity_id")
	st, found := s.lookupState(name, id)
	writeJSON(w, http.StatusOK, map[string]any{"projection": name, "entity_id": id, "state": st, "found": found})
}

// handleSaveProjectionState serves PUT and POST
// /api/v1/projections/{name}/{entity_id}/state.
func (s *Server) handleSaveProjectionState(w http.ResponseWriter, r *http.Request, _ *caller) {
	name, id := r.PathValue("name"), r.PathValue("entity_id")
	var req struct {
		State json.RawMessage `json:"state"`
	}
	if !readJSONBody(w, r, &req, stateMembers) {
		return
	}
	if req.State == nil {
		missingFieldRejection(w, "state")
		return
	}
	if err := s.saveStates(name, []stateEntry{{EntityID: id, State: req.State}}); err != nil {
		writeError(w, http.StatusInternalServerError, "Storage error: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"projection": name, "entity_id": id, "saved": true})
}

func (s *Server) saveStates(name string, entries []stateEntry) error {
	s.projections.mu.Lock()
	defer s.projections.mu.Unlock()
	for _, e := range entries {
		st, err := compactJSON(e.State)
		if err != nil {
			st = e.State
		}
		s.projections.put(name, e.EntityID, st)
		if s.persist != nil {
			if err := s.persist.writeProjection(projectionRecord{Op: "put", Name: name, EntityID: e.EntityID, State: st}); err != nil {
				return err
			}
		}
	}
	return nil
}

// handleBulkGet serves POST /api/v1/projections/{name}/bulk: states in
// request order.
func (s *Server) handleBulkGet(w http.ResponseWriter, r *http.Request, _ *caller) {
	name := r.PathValue("name")
	var req struct {
		EntityIDs *[]string `json:"entity_ids"`
	}
	if !readJSONBody(w, r, &req, bulkGetMembers) {
		return
	}
	if req.EntityIDs == nil {
		missingFieldRejection(w, "entity_ids")
		return
	}
	states := make([]map[string]any, 0, len(*req.EntityIDs))
	for _, id := range *req.EntityIDs {
		st, found := s.lookupState(name, id)
		states = append(states, map[string]any{"entity_id": id, "state": st, "found": found})
	}
	writeJSON(w, http.StatusOK, map[string]any{"projection": name, "states": states, "total": len(states)})
}

// handleBulkSave serves POST /api/v1/projections/{name}/bulk/save.
func (s *Server) handleBulkSave(w http.ResponseWriter, r *http.Request, _ *caller) {
	name := r.PathValue("name")
	var req struct {
		States *[]struct {
			EntityID *string         `json:"entity_id"`
			State    json.RawMessage `json:"state"`
		} `json:"states"`
	}
	if !readJSONBody(w, r, &req, bulkSaveMembers) {
		return
	}
	if req.States == nil {
		missingFieldRejection(w, "states")
		return
	}
	entries := make([]stateEntry, 0, len(*req.States))
	for i, e := range *req.States {
		switch {
		case e.EntityID == nil:
			writeText(w, http.StatusUnprocessableEntity, fmt.Sprintf("Failed to deserialize the JSON body into the target type: states[%d]: missing field `entity_id`", i))
			return
		case e.State == nil:
			writeText(w, http.StatusUnprocessableEntity, fmt.Sprintf("Failed to deserialize the JSON body into the target type: states[%d]: missing field `state`", i))
			return
		}
		entries = append(entries, stateEntry{EntityID: *e.EntityID, State: e.State})
	}
	if err := s.saveStates(name, entries); err != nil {
		writeError(w, http.StatusInternalServerError, "Storage error: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"projection": name, "saved": len(entries), "total": len(entries)})
}
