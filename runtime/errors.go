package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Sentinel errors for errors.Is. An *APIError matches the sentinel of its
// status class, and the *ErrorCode sentinels an API declares for the code
// its body carries; *CircuitOpenError and *ProtocolError match theirs.
var (
	// ErrNotFound matches a 404 response.
	ErrNotFound = errors.New("runtime: not found")
	// ErrUnauthorized matches a 401 response.
	ErrUnauthorized = errors.New("runtime: unauthorized")
	// ErrForbidden matches a 403 response.
	ErrForbidden = errors.New("runtime: forbidden")
	// ErrRateLimited matches a 429 response, and a response whose error
	// code the API declares of this class. APIError.RetryAfter tells how
	// long to wait.
	ErrRateLimited = errors.New("runtime: rate limited")
	// ErrConflict matches a 409 response, unless the API declares its
	// error code of no class.
	ErrConflict = errors.New("runtime: conflict")
	// ErrCircuitOpen matches a call refused by an open circuit breaker;
	// errors.As to *CircuitOpenError tells when it will try again.
	ErrCircuitOpen = errors.New("runtime: circuit breaker open")
	// ErrProtocol matches a response that breaks the API contract: a 2xx
	// body that cannot be read or decoded, an oversized body, or any
	// *ProtocolError raised by an SDK.
	ErrProtocol = errors.New("runtime: protocol error")
)

// ErrorCode is a sentinel for a machine-readable error code an API
// documents (generated from the spec's x-error-codes extension):
// errors.Is(err, code) holds for an *APIError whose body carries that code,
// whichever client or package the error came from.
type ErrorCode struct {
	// Code is the code as error bodies carry it ("version_conflict").
	Code string
	// Text is what Error returns.
	Text string
	// Class, when set, is the sentinel of a status class (ErrNotFound,
	// ErrUnauthorized, ErrForbidden, ErrRateLimited, ErrConflict) that a
	// response with this code matches whatever its status.
	Class error
	// NoClass says that a response with this code matches no status
	// class sentinel: a read-only node's 409 is not a conflict to resolve.
	NoClass bool
}

// Error returns the code's text.
func (c *ErrorCode) Error() string { return c.Text }

// APIError is a non-2xx response.
type APIError struct {
	// OperationID names the operation that failed.
	OperationID string
	// Method and URL describe the request, with credentials removed.
	Method, URL string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the machine-readable error code when the body carries one
	// (for example "version_conflict" or "rate_limit_exceeded").
	Code string
	// Message is the human-readable message from the body.
	Message string
	// RequestID is the server's request id (X-Request-Id or
	// X-Correlation-Id header, or the body's correlation_id), if any.
	RequestID string
	// Header holds the response headers.
	Header http.Header
	// Body is the raw response body (at most 1 MiB of it).
	Body []byte
	// Detail is the body decoded into the operation's documented error
	// schema for this status, or nil.
	Detail any
	// Attempts is the number of attempts the call made, this one included.
	Attempts int

	codes      []*ErrorCode  // the codes the operation's API declares
	retryAfter time.Duration // from the body when the header has none
}

// Error describes the failure without credentials.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.OperationID != "" {
		b.WriteString(e.OperationID)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" && e.Message != e.Code {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Is reports whether the response belongs to the class of target, one of
// the package's sentinel errors, or carries the code of target, an
// *ErrorCode.
func (e *APIError) Is(target error) bool {
	if c, ok := target.(*ErrorCode); ok {
		return e.Code != "" && e.Code == c.Code
	}
	if c := e.declared(); c != nil {
		if c.NoClass {
			return false
		}
		if c.Class != nil && c.Class == target {
			return true
		}
	}
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	}
	return false
}

// declared returns the declared error code the body carries, or nil.
func (e *APIError) declared() *ErrorCode {
	if e.Code == "" {
		return nil
	}
	for _, c := range e.codes {
		if c.Code == e.Code {
			return c
		}
	}
	return nil
}

// RetryAfter returns how long the server asked the client to wait before
// trying again (the Retry-After header in seconds or as an HTTP date, or the
// body's retry_after_seconds), and whether it said so at all.
func (e *APIError) RetryAfter() (time.Duration, bool) {
	if d, ok := parseRetryAfter(e.Header.Get("Retry-After"), time.Now()); ok {
		return d, true
	}
	if e.retryAfter > 0 {
		return e.retryAfter, true
	}
	return 0, false
}

// CircuitOpenError is returned, without a request being sent, when the
// client's circuit breaker is open (or half-open with its one probe already
// in flight).
type CircuitOpenError struct {
	// RetryAt is when the breaker lets a probe through again. It is in the
	// past while a half-open probe is in flight.
	RetryAt time.Time
	// Probing reports that the breaker is half-open and its single probe
	// is in flight; the next call can go through once the probe succeeds.
	Probing bool
	// Last is the error of the call's previous attempt when the breaker
	// opened between two attempts of one call, or nil.
	Last error
}

// Error says when the breaker will try again.
func (e *CircuitOpenError) Error() string {
	var s string
	if e.Probing {
		s = "circuit breaker half-open: a probe request is in flight; try again when it completes"
	} else {
		s = "circuit breaker open: next attempt allowed at " + e.RetryAt.UTC().Format(time.RFC3339Nano)
		if d := time.Until(e.RetryAt); d > 0 {
			s += " (in " + d.Round(time.Millisecond).String() + ")"
		}
	}
	if e.Last != nil {
		s += "; last error: " + e.Last.Error()
	}
	return s
}

// Is reports whether target is ErrCircuitOpen.
func (e *CircuitOpenError) Is(target error) bool { return target == ErrCircuitOpen }

// Unwrap returns the previous attempt's error, if any.
func (e *CircuitOpenError) Unwrap() error { return e.Last }

// ProtocolError reports a server that broke the API contract: a 2xx body
// that is truncated, malformed or too large, or (raised by an SDK) a server
// that ignores a pagination offset.
type ProtocolError struct {
	// OperationID names the operation.
	OperationID string
	// Method and URL describe the request, with credentials removed.
	Method, URL string
	// StatusCode is the response status, or 0.
	StatusCode int
	// Reason says what was wrong.
	Reason string
	// Err is the underlying error, if any (a JSON syntax error,
	// io.ErrUnexpectedEOF, ...).
	Err error
}

// Error describes the violation.
func (e *ProtocolError) Error() string {
	var b strings.Builder
	b.WriteString("protocol error")
	if e.OperationID != "" {
		b.WriteString(": ")
		b.WriteString(e.OperationID)
	}
	if e.Method != "" {
		fmt.Fprintf(&b, ": %s %s", e.Method, e.URL)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d", e.StatusCode)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is reports whether target is ErrProtocol.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

// Unwrap returns the underlying error.
func (e *ProtocolError) Unwrap() error { return e.Err }

// parseErrorBody fills Code, Message, RequestID and the body's retry hint
// from the error body shapes HTTP APIs commonly send:
//
//	{"error":"text"}
//	{"error":"code","message":"text"}                    (other members ignored)
//	{"error":{"code":"..","message":"..","correlation_id":"..","retry_after_seconds":N}}
//	{"message":"text"}
//	plain text
//
// The body decoded into the operation's documented schema is Detail.
func (e *APIError) parseErrorBody() {
	body := strings.TrimSpace(string(e.Body))
	if body == "" {
		return
	}
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if body[0] != '{' || json.Unmarshal(e.Body, &env) != nil {
		e.Message = truncate(body, 512)
		return
	}
	var s string
	var obj struct {
		Code              string   `json:"code"`
		Message           string   `json:"message"`
		CorrelationID     string   `json:"correlation_id"`
		RetryAfterSeconds *float64 `json:"retry_after_seconds"`
	}
	switch {
	case len(env.Error) == 0:
		e.Message = env.Message
	case json.Unmarshal(env.Error, &s) == nil:
		if env.Message != "" || isCode(s) {
			e.Code, e.Message = s, env.Message
		} else {
			e.Message = s
		}
	case json.Unmarshal(env.Error, &obj) == nil:
		e.Code, e.Message = obj.Code, obj.Message
		if e.RequestID == "" {
			e.RequestID = obj.CorrelationID
		}
		if obj.RetryAfterSeconds != nil && *obj.RetryAfterSeconds > 0 {
			e.retryAfter = time.Duration(*obj.RetryAfterSeconds * float64(time.Second))
		}
	default:
		e.Message = env.Message
	}
}

// isCode reports whether s looks like a machine code (snake_case, no spaces).
func isCode(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// requestID returns the request id a response carries in one of the usual
// headers, in order of preference, or "".
func requestID(h http.Header) string {
	for _, k := range [...]string{"X-Request-Id", "X-Correlation-Id", "Request-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// IsRetryable reports whether the same call may succeed if tried again
// later: a 408, 429, 500, 502, 503 or
// 504 response, an open circuit breaker, or a transport failure (the
// connection was refused, reset or timed out) — but not a cancelled
// context, an invalid request, a version conflict (reload and decide
// instead), or a server that broke the protocol. A request that may have
// reached the server before failing (a cut response to a write, say) is
// retryable too: whether retrying it can duplicate a write is for the
// caller to judge, as the runtime's own retries do.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrCircuitOpen) {
		return true
	}
	var api *APIError
	if errors.As(err, &api) {
		switch api.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ue *url.Error
	return errors.As(err, &ue) && !errors.Is(err, ErrProtocol)
}

// IsNotFound reports whether err is a 404 response.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsUnauthorized reports whether err is a 401 response.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsRateLimited reports whether err is a 429 response; APIError.RetryAfter
// tells how long to wait.
func IsRateLimited(err error) bool { return errors.Is(err, ErrRateLimited) }

// IsBadRequest reports whether err is a 400 response.
func IsBadRequest(err error) bool { return StatusCode(err) == http.StatusBadRequest }

// IsServerError reports whether err is a 5xx response.
func IsServerError(err error) bool { return StatusCode(err) >= 500 }

// IsCircuitOpen reports whether err is a call refused by an open circuit
// breaker.
func IsCircuitOpen(err error) bool { return errors.Is(err, ErrCircuitOpen) }

// StatusCode returns the HTTP status of the response err carries, or 0
// when err is not an *APIError.
func StatusCode(err error) int {
	var api *APIError
	if errors.As(err, &api) {
		return api.StatusCode
	}
	return 0
}
