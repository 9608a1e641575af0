package coretest

// Core's router, its CORS layer and health.

import (
	"net/http"
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
