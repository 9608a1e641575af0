package coretest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// service tells which of the two APIs a request is for.
type service int

const (
	serviceCore service = iota
	serviceQuery
)

func (v service) String() string { return string(v.name()) }

// name returns the service's exported name.
func (v service) name() Service {
	if v == serviceQuery {
		return Query
	}
	return Core
}

// caller is the authenticated identity of a request.
type caller struct {
	tenant string
}

// handlerFunc is an operation handler. It writes its response to w, which
// is a recorder unless the operation streams.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *caller)

// operation describes one route.
type operation struct {
	svc       service
	id        string
	method    string
	pattern   string
	public    bool // no credentials needed (reference §2.1 skip list)
	write     bool // refused on a follower (reference §2.1 WRITE_PATHS)
	streaming bool // writes to the real connection (WebSocket)
	handle    handlerFunc
}

// recorder buffers a response so that it can be validated, delayed or cut.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: make(http.Header)} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// maxBody bounds request bodies like Core's HTTP framework does by default
// (2 MiB, reference §14 #1); a larger body gets a plain-text 413.
const maxBody = 2 << 20

// register adds op to mux, wrapped in the request pipeline: spec
// validation of the request, fault injection, authentication, rate
// limiting, the follower check, the handler, and spec validation of the
// response.
func (s *Server) register(mux *http.ServeMux, op operation) {
	mux.HandleFunc(op.method+" "+op.pattern, func(w http.ResponseWriter, r *http.Request) {
		if !s.handlers.enter() {
			writeText(w, http.StatusServiceUnavailable, "Server shutting down")
			return
		}
		defer s.handlers.leave()
		s.serveOp(w, r, &op)
	})
}

// handlerTracker counts running handlers so that Close returns only after
// the last one, and no spec violation is reported after the server (and
// the test that owns it) is done.
type handlerTracker struct {
	mu      sync.Mutex
	running int
	closed  bool
	idle    *sync.Cond
}

func (h *handlerTracker) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.running++
	return true
}

func (h *handlerTracker) leave() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running--
	if h.running == 0 && h.idle != nil {
		h.idle.Broadcast()
	}
}

// closeAndWait refuses new handlers and waits for the running ones.
func (h *handlerTracker) closeAndWait() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.idle == nil {
		h.idle = sync.NewCond(&h.mu)
	}
	for h.running > 0 {
		h.idle.Wait()
	}
}

func (s *Server) serveOp(w http.ResponseWriter, r *http.Request, op *operation) {
	start := time.Now()
	var reqBody []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := readBody(w, r)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeText(w, http.StatusRequestEntityTooLarge, "Failed to buffer the request body: length limit exceeded")
				return
			}
			writeText(w, http.StatusBadRequest, "Failed to buffer the request body")
			return
		}
		reqBody = b
		r.Body = newBufferedBody(b)
	}
	var reqViolation error
	if s.specs != nil {
		reqViolation = s.specs.checkRequest(r, op, reqBody)
	}
	f := s.faults.take(Request{Service: op.svc.name(), OperationID: op.id, Method: r.Method, Path: r.URL.Path})
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			// The server is closing or the client left: abort without a
			// response rather than answer an empty 200.
			panic(http.ErrAbortHandler)
		}
	}
	if f.Status != 0 {
		rec := newRecorder()
		writeInjectedFailure(rec, op, f.Status)
		if s.specs != nil && s.specs.documents(op, rec.status) {
			// An injected failure must look like the real one.
			s.specs.checkResponse(r, op, reqBody, rec)
		}
		s.flush(w, rec, false)
		s.logRequest(r, op, rec.status, start)
		return
	}

	rec := newRecorder()
	c, ok := s.admit(rec, r, op)
	if ok {
		if op.streaming {
			if reqViolation != nil {
				s.specs.report(reqViolation)
			}
			op.handle(w, r, c)
			s.logRequest(r, op, http.StatusSwitchingProtocols, start)
			return
		}
		op.handle(rec, r, c)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if s.specs != nil {
		if reqViolation != nil && (rec.status < 300 || s.cfg.strictReqs) {
			s.specs.report(reqViolation)
		}
		s.specs.checkResponse(r, op, reqBody, rec)
	}
	s.flush(w, rec, f.CutBody)
	s.logRequest(r, op, rec.status, start)
}

// readBody reads the whole request body, at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, maxBody)
	if n := r.ContentLength; n > 0 && n <= maxBody {
		b := make([]byte, n)
		if _, err := io.ReadFull(body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(body)
}

// bufferedBody is a request body already read into memory; handlers
// decode its bytes without copying them again.
type bufferedBody struct {
	*bytes.Reader
	b []byte
}

func newBufferedBody(b []byte) *bufferedBody {
	return &bufferedBody{Reader: bytes.NewReader(b), b: b}
}

// Close implements io.Closer.
func (*bufferedBody) Close() error { return nil }

func (s *Server) logRequest(r *http.Request, op *operation, status int, start time.Time) {
	s.cfg.logger.Debug("request", "service", op.svc.String(), "operation", op.id,
		"method", r.Method, "path", r.URL.Path, "status", status, "duration", time.Since(start))
}

// flush writes rec to w; with cut, it sends the headers and half the body,
// then closes the connection.
func (s *Server) flush(w http.ResponseWriter, rec *recorder, cut bool) {
	body := rec.body.Bytes()
	if cut {
		s.cutResponse(w, rec)
		return
	}
	h := w.Header()
	for k, v := range rec.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.status)
	_, _ = w.Write(body)
}

// cutResponse writes a response whose Content-Length promises the whole
// body, sends half of it, and closes the connection.
func (s *Server) cutResponse(w http.ResponseWriter, rec *recorder) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.cfg.logger.Error("coretest: cut body: hijack", "err", err)
		return
	}
	defer conn.Close()
	body := rec.body.Bytes()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.status, http.StatusText(rec.status))
	rec.header.Set("Content-Length", strconv.Itoa(len(body)))
	rec.header.Set("Connection", "close")
	_ = rec.header.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}

// admit authenticates r, applies the rate limit and the follower check. It
// writes the refusal to w and returns false when the request may not
// proceed.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, op *operation) (*caller, bool) {
	if op.svc == serviceQuery {
		return s.admitQuery(w, r, op)
	}
	c := &caller{}
	if !op.public {
		tenant, msg := s.authenticateCore(r)
		if msg != "" {
			writeText(w, http.StatusUnauthorized, msg)
			return nil, false
		}
		c.tenant = tenant
		if s.limiter.enabled() && !s.cfg.devMode {
			ok, remaining, retry := s.limiter.take(c.tenant)
			if !ok {
				if secs := int(retry / time.Second); secs > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(secs))
				}
				writeText(w, http.StatusTooManyRequests,
					fmt.Sprintf("Rate limit exceeded. Limit: %d requests/min", s.limiter.perMinute))
				return nil, false
			}
			w.Header().Set("X-RateLimit-Limit", strconv.Itoa(s.limiter.perMinute))
			w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		}
	}
	if s.cfg.follower && op.write {
		writeJSON(w, http.StatusConflict, map[string]string{
			"error":   "read_only",
			"message": "This node is a read-only follower",
		})
		return nil, false
	}
	return c, true
}

// authenticateCore implements Core's token extraction (reference §2.1). It
// returns the caller's tenant, or the plain-text 401 message.
func (s *Server) authenticateCore(r *http.Request) (tenant, msg string) {
	var token string
	if vals, ok := r.Header["Authorization"]; ok {
		v := strings.TrimSpace(strings.Join(vals, ""))
		switch {
		case v == "Bearer" || v == "bearer":
			// "Bearer " with its trailing space trimmed in transit.
			v = ""
		case strings.HasPrefix(v, "Bearer "):
			v = v[len("Bearer "):]
		case strings.HasPrefix(v, "bearer "):
			v = v[len("bearer "):]
		}
		token = strings.TrimSpace(v)
		if token == "" {
			if s.cfg.devMode {
				return "dev-tenant", ""
			}
			return "", "Empty authorization token"
		}
	} else if v := r.Header.Get("X-API-Key"); v != "" {
		token = strings.TrimSpace(v)
	}
	if token == "" {
		if s.cfg.devMode {
			return "dev-tenant", ""
		}
		return "", "Missing authorization header"
	}
	if t, ok := s.cfg.keys[token]; ok {
		return t, ""
	}
	if s.cfg.devMode {
		return "dev-tenant", ""
	}
	if strings.HasPrefix(token, "ask_") {
		return "", "Invalid API key"
	}
	return "", "Invalid token: InvalidToken"
}

// admitQuery implements the Query Service's auth pipeline and rate limit
// (reference §2.2), with JSON error bodies.
func (s *Server) admitQuery(w http.ResponseWriter, r *http.Request, op *operation) (*caller, bool) {
	c := &caller{}
	if op.public {
		return c, true
	}
	token := r.Header.Get("X-API-Key")
	if token == "" {
		if v := r.Header.Get("Authorization"); strings.HasPrefix(v, "Bearer ") {
			token = strings.TrimSpace(v[len("Bearer "):])
		}
	}
	tenant, known := s.cfg.keys[token]
	switch {
	case known && token != "":
		c.tenant = tenant
	case s.cfg.devMode:
		c.tenant = "dev-tenant"
	default:
		msg := "Missing authentication"
		if token != "" {
			msg = "Invalid API key"
		}
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{
			"code":           "unauthorized",
			"message":        msg,
			"correlation_id": formatUUID(newUUID()),
			"timestamp":      time.Now().UTC().Format(time.RFC3339),
		}})
		return nil, false
	}
	if s.qsLimiter.enabled() && !s.cfg.devMode {
		perSecond := max(1, (s.qsLimiter.perMinute+59)/60)
		ok, remaining, retry := s.qsLimiter.take(c.tenant)
		if !ok {
			secs := max(1, int((retry+time.Second-1)/time.Second))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			w.Header().Set("X-RateLimit-Limit", strconv.Itoa(perSecond))
			w.Header().Set("X-RateLimit-Remaining", "0")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]any{
				"code":                "rate_limit_exceeded",
				"message":             "Rate limit exceeded",
				"retry_after_seconds": secs,
				"tier":                "custom",
				"limit":               perSecond,
				"upgrade_url":         "",
			}})
			return nil, false
		}
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(perSecond))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	}
	return c, true
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	writeRawJSON(w, status, b)
}

// writeRawJSON writes b, already JSON, as the response.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeText writes a plain-text response, as Core's middleware and Axum's
// extractor rejections do.
func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

// writeError writes Core's typed error body {"error": msg} (reference §3).
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// invalidInput starts the message of Core's InvalidInput errors.
const invalidInput = "Invalid input: "

// writeInvalid writes Core's 400 {"error":"Invalid input: ..."}.
func writeInvalid(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusBadRequest, invalidInput+msg)
}

// writeQueryError writes the Query Service's {"error": msg}.
func writeQueryError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
