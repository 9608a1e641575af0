package coretest

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Service names one of the two APIs the server serves.
type Service string

// The services.
const (
	Core  Service = "core"
	Query Service = "query"
)

// Request is a request offered to a control: which operation it is for.
type Request struct {
	// Service is Core or Query.
	Service Service
	// OperationID is the spec's operationId ("ingestEvents", "health").
	OperationID string
	// Method and Path are the request's.
	Method, Path string
}

// Fault is what a control does to a request. The zero Fault lets the
// request through unchanged.
type Fault struct {
	// Delay holds the request this long before it is processed (or
	// failed). A request whose client leaves, or whose server closes, in
	// the meantime gets no response.
	Delay time.Duration
	// Status, when set, fails the request without processing it, with the
	// body the real service sends for that status: for Core plain text for
	// 401 and 429 (429 with Retry-After: 1), {"error":"..."} otherwise, with
	// Retry-After: 1 on 503; for the Query Service its JSON bodies (402 is
	// subscription_required). It applies to the WebSocket handshake too.
	Status int
	// CutBody processes the request normally but cuts its response: the
	// headers promise the whole body, half of it is sent, then the
	// connection is closed. This is the ambiguous failure in which a write
	// happened and the client cannot know. It is ignored with Status.
	CutBody bool
}

// control is one installed control.
type control struct {
	fn      func(Request) (Fault, bool)
	keep    bool // KeepControl was called during the current run
	drop    bool // DropControl was called during the current run
	removed bool
}

// faults holds the controls tests have installed. Controls run one at a
// time, under mu, so KeepControl and DropControl act on the one running.
type faults struct {
	mu         sync.Mutex
	controls   []*control
	current    *control
	dropStream int // frames after which the next stream is dropped; 0 = none
}

func newFaults() *faults { return &faults{} }

// take offers one request to every control, in the order they were
// installed, and merges the faults of those that handle it: delays add up,
// the first status wins, and any cut cuts. A control that handled the
// request is dropped unless it called KeepControl; one that called
// DropControl is dropped either way.
func (f *faults) take(r Request) Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out Fault
	kept := f.controls[:0]
	for _, c := range f.controls {
		if c.removed {
			continue
		}
		c.keep, c.drop = false, false
		f.current = c
		fault, handled := c.fn(r)
		f.current = nil
		if handled {
			out.Delay += fault.Delay
			if out.Status == 0 {
				out.Status = fault.Status
			}
			out.CutBody = out.CutBody || fault.CutBody
		}
		if c.drop || handled && !c.keep {
			c.removed = true
			continue
		}
		kept = append(kept, c)
	}
	clear(f.controls[len(kept):])
	f.controls = kept
	if out.Status != 0 {
		out.CutBody = false
	}
	return out
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

// Control installs fn, the server's one door for faults (in the spirit of
// franz-go kfake's Control). Every request of either service is offered to
// every installed control, in the order they were installed, before the
// server authenticates or processes it; fn returns the Fault to apply and
// whether it handled the request. The faults of all the controls that
// handle a request apply together: delays add up, the first Status wins,
// and any CutBody cuts.
//
// A control is dropped after it handles a request unless it calls
// KeepControl while it runs; it may call DropControl to be dropped without
// handling one. Controls run one at a time, so fn needs no locking of its
// own, but it must not call Control, Inject or Reset. The returned function
// removes the control. WebSocket streams have their own faults:
// DropStreamAfter and DropStreams.
func (s *Server) Control(fn func(Request) (Fault, bool)) (remove func()) {
	c := &control{fn: fn}
	s.faults.mu.Lock()
	s.faults.controls = append(s.faults.controls, c)
	s.faults.mu.Unlock()
	return func() {
		s.faults.mu.Lock()
		defer s.faults.mu.Unlock()
		c.removed = true
	}
}

// KeepControl, called by a control while it runs, keeps it installed after
// it handles the current request.
func (s *Server) KeepControl() {
	if c := s.faults.current; c != nil {
		c.keep = true
	}
}

// DropControl, called by a control while it runs, drops it after the
// current request whether it handled it or not.
func (s *Server) DropControl() {
	if c := s.faults.current; c != nil {
		c.drop = true
	}
}

// Inject applies f to the next n requests of the operation operationID of
// service svc (n <= 0: to every one, until removed or Reset). It is
// Control with a counting control, for the common case:
//
//	srv.Inject(coretest.Core, "ingestEvents", 2, coretest.Fault{Status: 503})
//	srv.Inject(coretest.Query, "queryEvents", 1, coretest.Fault{CutBody: true})
//	stop := srv.Inject(coretest.Core, "getStats", 0, coretest.Fault{Delay: time.Second})
func (s *Server) Inject(svc Service, operationID string, n int, f Fault) (remove func()) {
	left := n
	return s.Control(func(r Request) (Fault, bool) {
		if r.Service != svc || r.OperationID != operationID {
			return Fault{}, false
		}
		if n <= 0 {
			s.KeepControl()
			return f, true
		}
		if left--; left > 0 {
			s.KeepControl()
		}
		return f, true
	})
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

// Reset removes every control and stream fault and refills the rate-limit
// buckets.
func (s *Server) Reset() {
	s.faults.mu.Lock()
	for _, c := range s.faults.controls {
		c.removed = true
	}
	s.faults.controls = nil
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
