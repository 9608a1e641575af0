package coretest

import (
	"net/http"
	"net/url"
	"time"
)

// queryServiceVersion is the version the Query Service health reports.
const queryServiceVersion = coreVersion

func (s *Server) queryHandler() http.Handler {
	mux := http.NewServeMux()
	for _, op := range s.queryOperations() {
		s.register(mux, op)
	}
	return mux
}

// queryOperations lists the Query Service's operations.
func (s *Server) queryOperations() []operation {
	ops := []operation{
		{id: "health", method: "GET", pattern: "/health", public: true, handle: s.handleQueryHealth},
		{id: "queryEvents", method: "GET", pattern: "/api/v1/events/query", handle: s.handleQueryServiceEvents},
	}
	for i := range ops {
		ops[i].svc = serviceQuery
	}
	return ops
}

// handleQueryHealth serves the Query Service's GET /health (reference §6).
func (s *Server) handleQueryHealth(w http.ResponseWriter, _ *http.Request, _ *caller) {
	writeJSON(w, http.StatusOK, map[string]any{
		"service":   "query_service_ex",
		"status":    "healthy",
		"backend":   "healthy",
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"version":   queryServiceVersion,
	})
}

// queryServiceParams are the parameters the Query Service forwards to
// Core; the rest are dropped, and the tenant comes from the credentials.
var queryServiceParams = []string{"entity_id", "event_type", "since", "until", "as_of", "limit", "offset"}

// handleQueryServiceEvents serves the Query Service's GET
// /api/v1/events/query: Core's query for the caller's tenant with limit
// defaulting to 100 (reference §6).
func (s *Server) handleQueryServiceEvents(w http.ResponseWriter, r *http.Request, c *caller) {
	in := r.URL.Query()
	fwd := url.Values{}
	for _, k := range queryServiceParams {
		if v, ok := in[k]; ok {
			fwd[k] = v
		}
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = fwd.Encode()
	q, ok := parseQuery(w, r2, c, true)
	if !ok {
		return
	}
	q.tenant = c.tenant
	writeRawJSON(w, http.StatusOK, s.runQuery(&q))
}
