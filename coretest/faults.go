package coretest

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// faults holds the failures tests have asked for.
type faults struct {
	mu         sync.Mutex
	fail       map[faultKey]*failSpec
	delay      map[faultKey]time.Duration
	cut        map[faultKey]int
	dropStream int // frames after which the next stream is dropped; 0 = none
}

type faultKey struct {
	svc service
	op  string
}

type failSpec struct {
	n      int
	status int
}

// faultPlan is what happens to one request.
type faultPlan struct {
	delay      time.Duration
	failStatus int
	cutBody    bool
}

func newFaults() *faults {
	return &faults{
		fail:  make(map[faultKey]*failSpec),
		delay: make(map[faultKey]time.Duration),
		cut:   make(map[faultKey]int),
	}
}

// take returns the plan for one request of op and consumes it.
func (f *faults) take(svc service, op string) faultPlan {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := faultKey{svc, op}
	p := faultPlan{delay: f.delay[k]}
	if fs := f.fail[k]; fs != nil {
		p.failStatus = fs.status
		if fs.n--; fs.n <= 0 {
			delete(f.fail, k)
		}
		return p
	}
	if n := f.cut[k]; n > 0 {
		p.cutBody = true
		if n == 1 {
			delete(f.cut, k)
		} else {
			f.cut[k] = n - 1
		}
	}
	return p
}

// takeStreamDrop returns after how many frames the stream starting now is
// to be dropped, or 0.
func (f *faults) takeStreamDrop() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.dropStream
	f.dropStream = 0
	return n
}

// FailNext makes the next n requests of the Core operation operationID
// (the spec's operationId, for example "ingestEvents") fail with status
// without being processed. The body is the one Core sends for that status:
// plain text for 401 and 429 (429 with Retry-After: 1), {"error":"..."}
// otherwise, with Retry-After: 1 on 503.
func (s *Server) FailNext(operationID string, n, status int) {
	s.failNext(serviceCore, operationID, n, status)
}

// FailNextQuery is FailNext for a Query Service operation ("health",
// "queryEvents"), with the Query Service's error bodies (402 is
// subscription_required).
func (s *Server) FailNextQuery(operationID string, n, status int) {
	s.failNext(serviceQuery, operationID, n, status)
}

func (s *Server) failNext(svc service, op string, n, status int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	k := faultKey{svc, op}
	if n <= 0 {
		delete(s.faults.fail, k)
		return
	}
	s.faults.fail[k] = &failSpec{n: n, status: status}
}

// Delay delays every response of the Core operation operationID by d until
// it is reset with a zero d or Reset.
func (s *Server) Delay(operationID string, d time.Duration) {
	s.delay(serviceCore, operationID, d)
}

// DelayQuery is Delay for a Query Service operation.
func (s *Server) DelayQuery(operationID string, d time.Duration) {
	s.delay(serviceQuery, operationID, d)
}

func (s *Server) delay(svc service, op string, d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	k := faultKey{svc, op}
	if d <= 0 {
		delete(s.faults.delay, k)
		return
	}
	s.faults.delay[k] = d
}

// CutBodyNext makes the next n requests of the Core operation operationID
// be processed normally, but their responses are cut: the headers promise
// the whole body, half of it is sent, then the connection is closed. This
// is the ambiguous failure in which a write happened and the client cannot
// know.
func (s *Server) CutBodyNext(operationID string, n int) {
	s.cutBodyNext(serviceCore, operationID, n)
}

// CutBodyNextQuery is CutBodyNext for a Query Service operation.
func (s *Server) CutBodyNextQuery(operationID string, n int) {
	s.cutBodyNext(serviceQuery, operationID, n)
}

func (s *Server) cutBodyNext(svc service, operationID string, n int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	k := faultKey{svc, operationID}
	if n <= 0 {
		delete(s.faults.cut, k)
		return
	}
	s.faults.cut[k] = n
}

// DropStreamAfter makes the next WebSocket stream that is opened be dropped,
// without a close frame, after the server has sent nFrames frames.
func (s *Server) DropStreamAfter(nFrames int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.dropStream = max(nFrames, 0)
}

// DropStreams drops every open WebSocket stream now, without a close frame.
func (s *Server) DropStreams() {
	s.hub.dropAll()
}

// Reset clears every injected fault and refills the rate-limit buckets.
func (s *Server) Reset() {
	s.faults.mu.Lock()
	clear(s.faults.fail)
	clear(s.faults.delay)
	clear(s.faults.cut)
	s.faults.dropStream = 0
	s.faults.mu.Unlock()
	s.limiter.reset()
	s.qsLimiter.reset()
}

// writeInjectedFailure writes a realistic failure for status.
func writeInjectedFailure(w http.ResponseWriter, op *operation, status int) {
	if op.svc == serviceQuery {
		switch status {
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "1")
			writeJSON(w, status, map[string]any{"error": map[string]any{
				"code": "rate_limit_exceeded", "message": "Rate limit exceeded",
				"retry_after_seconds": 1, "tier": "custom", "limit": 1, "upgrade_url": "",
			}})
		case http.StatusUnauthorized:
			writeJSON(w, status, map[string]any{"error": map[string]any{
				"code": "unauthorized", "message": "Invalid API key",
				"correlation_id": formatUUID(newUUID()), "timestamp": time.Now().UTC().Format(time.RFC3339),
			}})
		case http.StatusPaymentRequired:
			writeJSON(w, status, map[string]any{"error": map[string]any{
				"code": "subscription_required", "message": "An active subscription is required",
				"subscription_status": "canceled",
			}})
		default:
			writeQueryError(w, status, http.StatusText(status))
		}
		return
	}
	switch status {
	case http.StatusUnauthorized:
		writeText(w, status, "Invalid API key")
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		writeText(w, status, "Rate limit exceeded. Limit: 60 requests/min")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
		writeError(w, status, "Service unavailable: queue full")
	case http.StatusConflict:
		if op.id == "ingestEvent" || op.id == "ingestEvents" {
			writeJSON(w, status, map[string]any{"error": "version_conflict", "expected_version": 0, "current_version": 1})
			return
		}
		writeJSON(w, status, map[string]string{"error": "read_only", "message": "This node is a read-only follower"})
	case http.StatusUnsupportedMediaType:
		writeText(w, status, "Expected request with `Content-Type: application/json`")
	case http.StatusUnprocessableEntity:
		writeText(w, status, "Failed to deserialize the JSON body into the target type: injected failure")
	case http.StatusNotFound:
		writeError(w, status, "Entity not found: injected")
	case http.StatusBadRequest:
		writeError(w, status, "Invalid input: injected")
	default:
		if status >= 500 {
			writeError(w, status, "Internal error: injected failure "+strconv.Itoa(status))
			return
		}
		writeError(w, status, http.StatusText(status))
	}
}
