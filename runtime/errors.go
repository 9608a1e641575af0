package runtime

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

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
	// RequestID is the server's request id header, if any.
	RequestID string
	// Header holds the response headers.
	Header http.Header
	// Body is the raw response body.
	Body []byte
	// Detail is the body decoded into the operation's documented error
	// schema for this status, or nil.
	Detail any
}

// Error describes the failure without credentials.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" && e.Message != e.Code {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// parseErrorBody fills Code and Message from the common body shapes:
// {"error":"text"}, {"error":{"code":..,"message":..}}, {"error":"code","message":..},
// and plain text.
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
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	switch {
	case json.Unmarshal(env.Error, &s) == nil:
		if env.Message != "" || isCode(s) {
			e.Code, e.Message = s, env.Message
		} else {
			e.Message = s
		}
	case json.Unmarshal(env.Error, &obj) == nil:
		e.Code, e.Message = obj.Code, obj.Message
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
