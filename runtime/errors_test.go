package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Error codes as an API declares them (x-error-codes), for the tests.
var (
	errVersionConflict = &ErrorCode{Code: "version_conflict", Text: "test: version conflict", Class: ErrConflict}
	errReadOnly        = &ErrorCode{Code: "read_only", Text: "test: read only", NoClass: true}
	errRateLimit       = &ErrorCode{Code: "rate_limit_exceeded", Text: "test: rate limit exceeded", Class: ErrRateLimited}
	errQuota           = &ErrorCode{Code: "quota_exceeded", Text: "test: quota exceeded"}
	testCodes          = []*ErrorCode{errVersionConflict, errReadOnly, errRateLimit, errQuota}
)

// TestAPIErrorBodies sends the error body shapes of real servers through
// a real client and checks the parsed code, message, sentinels (of status
// classes and of declared codes) and extras.
func TestAPIErrorBodies(t *testing.T) {
	type errBody struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	cases := []struct {
		name        string
		status      int
		contentType string
		header      map[string]string
		body        string
		code, msg   string
		is          []error
		isNot       []error
		requestID   string
		retryAfter  time.Duration
	}{
		{name: "core-404", status: 404, body: `{"error":"Entity not found: Event 'x' not found"}`,
			msg: "Entity not found: Event 'x' not found", is: []error{ErrNotFound}, isNot: []error{ErrConflict, ErrUnauthorized}},
		{name: "core-400", status: 400, body: `{"error":"Invalid input: event_type must not be empty"}`,
			msg: "Invalid input: event_type must not be empty", isNot: []error{ErrNotFound}},
		{name: "core-version-conflict", status: 409, body: `{"error":"version_conflict","expected_version":3,"current_version":5}`,
			code: "version_conflict", is: []error{ErrConflict, errVersionConflict}, isNot: []error{errReadOnly}},
		{name: "core-follower-read-only", status: 409, body: `{"error":"read_only","message":"This node is a read-only follower"}`,
			code: "read_only", msg: "This node is a read-only follower", is: []error{errReadOnly}, isNot: []error{ErrConflict, errVersionConflict}},
		{name: "core-tenant-exists", status: 409, body: `{"error":"Tenant already exists: acme"}`,
			msg: "Tenant already exists: acme", is: []error{ErrConflict}, isNot: []error{errVersionConflict, errReadOnly}},
		{name: "core-401-plain", status: 401, contentType: "text/plain; charset=utf-8", body: "Missing authorization header",
			msg: "Missing authorization header", is: []error{ErrUnauthorized}},
		{name: "core-429-plain", status: 429, contentType: "text/plain; charset=utf-8", header: map[string]string{"Retry-After": "7"},
			body: "Rate limit exceeded. Limit: 60 requests/min", msg: "Rate limit exceeded. Limit: 60 requests/min",
			is: []error{ErrRateLimited}, retryAfter: 7 * time.Second},
		{name: "core-503-archive", status: 503, header: map[string]string{"Retry-After": "1"},
			body: `{"error":"archive_index_incomplete","remaining_files":3,"stopped_by":"budget"}`, code: "archive_index_incomplete",
			retryAfter: time.Second},
		{name: "core-schema-violation", status: 422,
			body: `{"error":{"code":"schema_violation","message":"payload.total: required","details":{"event_type":"order.placed","schema_version":2,"errors":["total"]}}}`,
			code: "schema_violation", msg: "payload.total: required"},
		{name: "qs-401", status: 401, body: `{"error":{"code":"unauthorized","message":"Invalid API key","correlation_id":"c-123","timestamp":"2026-01-01T00:00:00Z"}}`,
			code: "unauthorized", msg: "Invalid API key", is: []error{ErrUnauthorized}, requestID: "c-123"},
		{name: "qs-402-quota", status: 402, body: `{"error":{"code":"quota_exceeded","message":"Monthly event quota exceeded","usage_type":"events","used":10,"quota":10}}`,
			code: "quota_exceeded", msg: "Monthly event quota exceeded", is: []error{errQuota}, isNot: []error{ErrRateLimited, errRateLimit}},
		{name: "qs-403-rate-code", status: 403, body: `{"error":{"code":"rate_limit_exceeded","message":"Slow down"}}`,
			code: "rate_limit_exceeded", msg: "Slow down", is: []error{ErrRateLimited, ErrForbidden, errRateLimit}},
		{name: "qs-429-json", status: 429, body: `{"error":{"code":"rate_limit_exceeded","message":"Slow down","retry_after_seconds":3,"tier":"free","limit":5}}`,
			code: "rate_limit_exceeded", msg: "Slow down", is: []error{ErrRateLimited, errRateLimit}, retryAfter: 3 * time.Second},
		{name: "gateway-403", status: 403, body: `{"error":"forbidden","message":"permission denied: write required"}`,
			code: "forbidden", msg: "permission denied: write required", is: []error{ErrForbidden}},
		{name: "framework-422-plain", status: 422, contentType: "text/plain", body: "Failed to deserialize the JSON body into the target type: missing field `event_type`",
			msg: "Failed to deserialize the JSON body into the target type: missing field `event_type`"},
		{name: "request-id-header", status: 500, header: map[string]string{"X-Request-Id": "r-9"}, body: `{"error":"Internal error"}`,
			msg: "Internal error", requestID: "r-9"},
		{name: "empty", status: 502, body: ``},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tc := cases[0]
		for _, c := range cases {
			if c.name == r.URL.Query().Get("case") {
				tc = c
			}
		}
		ct := tc.contentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		for k, v := range tc.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(tc.status)
		_, _ = io.WriteString(w, tc.body)
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithAPIKey("k"), WithMaxRetries(0), WithCircuitBreaker(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := getReq()
			req.Query = map[string][]string{"case": {tc.name}}
			req.ErrorCodes = testCodes
			req.ErrorBody = func(status int) any {
				if status == 401 || status == 422 {
					return new(struct {
						Error errBody `json:"error"`
					})
				}
				return nil
			}
			err := c.Do(context.Background(), req, nil)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if ae.StatusCode != tc.status || ae.Code != tc.code || ae.Message != tc.msg {
				t.Errorf("status/code/message = %d %q %q, want %d %q %q", ae.StatusCode, ae.Code, ae.Message, tc.status, tc.code, tc.msg)
			}
			if string(ae.Body) != tc.body {
				t.Errorf("raw body = %q", ae.Body)
			}
			if ae.Method != "GET" || !strings.HasPrefix(ae.URL, srv.URL+"/api/v1/things/1?case=") || ae.OperationID != "getThing" {
				t.Errorf("request = %s %s (%s)", ae.Method, ae.URL, ae.OperationID)
			}
			if ae.RequestID != tc.requestID {
				t.Errorf("request id = %q, want %q", ae.RequestID, tc.requestID)
			}
			for _, s := range tc.is {
				if !errors.Is(err, s) {
					t.Errorf("errors.Is(err, %v) = false", s)
				}
			}
			for _, s := range tc.isNot {
				if errors.Is(err, s) {
					t.Errorf("errors.Is(err, %v) = true", s)
				}
			}
			d, ok := ae.RetryAfter()
			if ok != (tc.retryAfter > 0) || d != tc.retryAfter {
				t.Errorf("RetryAfter = %v %v, want %v", d, ok, tc.retryAfter)
			}
			if (tc.status == 401 || tc.status == 422) && strings.HasPrefix(tc.body, "{\"error\":{") {
				if ae.Detail == nil {
					t.Errorf("Detail not decoded")
				}
			} else if ae.Detail != nil {
				t.Errorf("Detail = %#v, want nil", ae.Detail)
			}
			if msg := ae.Error(); !strings.Contains(msg, fmt.Sprint(tc.status)) || tc.msg != "" && !strings.Contains(msg, tc.msg) {
				t.Errorf("Error() = %q", msg)
			}
		})
	}
}

func TestErrorTypes(t *testing.T) {
	// A code matches by its text, so that two packages generated from
	// specs that declare the same code agree.
	e := &APIError{StatusCode: 409, Code: "version_conflict"}
	other := &ErrorCode{Code: "version_conflict", Text: "other: version conflict"}
	if !errors.Is(e, other) || !errors.Is(e, errVersionConflict) || errors.Is(e, errReadOnly) || !errors.Is(e, ErrConflict) {
		t.Error("declared codes match by code")
	}
	if errors.Is(&APIError{StatusCode: 409}, other) {
		t.Error("a response without a code matched a code")
	}
	if errVersionConflict.Error() != "test: version conflict" {
		t.Errorf("Error() = %q", errVersionConflict.Error())
	}

	inner := errors.New("same first item on pages 1 and 2")
	pe := &ProtocolError{OperationID: "queryEvents", Method: "GET", URL: "http://h/api/v1/events/query", Reason: "server ignored offset", Err: inner}
	wrapped := fmt.Errorf("paging: %w", pe)
	if !errors.Is(wrapped, ErrProtocol) || !errors.Is(wrapped, inner) {
		t.Error("ProtocolError sentinel or cause not reachable")
	}
	if got := pe.Error(); got != "protocol error: queryEvents: GET http://h/api/v1/events/query: server ignored offset: same first item on pages 1 and 2" {
		t.Errorf("Error() = %q", got)
	}

	last := &APIError{StatusCode: 503, Method: "GET", URL: "http://h/x"}
	at := time.Now().Add(time.Minute)
	ce := &CircuitOpenError{RetryAt: at, Last: last}
	if !errors.Is(ce, ErrCircuitOpen) || !errors.Is(ce, last) {
		t.Error("CircuitOpenError sentinel or last error not reachable")
	}
	if s := ce.Error(); !strings.Contains(s, at.UTC().Format(time.RFC3339Nano)) || !strings.Contains(s, "503") {
		t.Errorf("Error() = %q", s)
	}
}

// FuzzParseErrorBody checks that no error body, however malformed, makes
// the parser panic, and that the raw body is always kept.
func FuzzParseErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error":"x"}`, `{"error":{"code":"c","message":"m"}}`, `{"error":"version_conflict","expected_version":1,"current_version":2}`,
		`{"error":"read_only","message":"m"}`, `plain`, `{"error":null}`, `{"error":[1]}`, `{"error":{"retry_after_seconds":-3}}`, `{`,
	} {
		f.Add(409, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := &APIError{StatusCode: status, Body: body, Header: http.Header{}, codes: testCodes}
		e.parseErrorBody()
		_ = e.Error()
		_, _ = e.RetryAfter()
		if string(e.Body) != string(body) {
			t.Fatal("body changed")
		}
		for _, s := range []error{ErrNotFound, ErrConflict, errVersionConflict, errReadOnly, ErrRateLimited, errRateLimit} {
			_ = errors.Is(e, s)
		}
	})
}
