package coretest

// Query-string parameters as Core's framework reads them, and windowing.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// queryRejection writes Axum's plain-text rejection of a bad query string.
func queryRejection(w http.ResponseWriter, detail string) {
	writeText(w, http.StatusBadRequest, "Failed to deserialize query string: "+detail)
}

// params reads query parameters with Axum's semantics: unknown ones are
// ignored; a repeated key is rejected.
type params struct {
	v   url.Values
	err string
}

func newParams(r *http.Request) *params {
	p := &params{v: r.URL.Query()}
	return p
}

func (p *params) str(name string) (string, bool) {
	vals, ok := p.v[name]
	if !ok {
		return "", false
	}
	if len(vals) > 1 && p.err == "" {
		p.err = fmt.Sprintf("duplicate field `%s`", name)
	}
	return vals[0], true
}

func (p *params) uint(name string) (int, bool) {
	s, ok := p.str(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		if p.err == "" {
			p.err = fmt.Sprintf("%s: invalid digit found in string", name)
		}
		return 0, false
	}
	return int(min(n, uint64(int(^uint(0)>>1)))), true
}

func (p *params) time(name string) (int64, bool) {
	s, ok := p.str(name)
	if !ok {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if p.err == "" {
			p.err = fmt.Sprintf("%s: input contains invalid characters", name)
		}
		return 0, false
	}
	return t.UnixNano(), true
}

// order parses an order parameter (case-insensitive asc/desc). It returns
// the message of Core's 400 on anything else.
func parseOrder(v string) (desc bool, msg string) {
	switch strings.ToLower(v) {
	case "asc":
		return false, ""
	case "desc":
		return true, ""
	}
	return false, fmt.Sprintf("invalid 'order' value '%s': expected 'asc' or 'desc'", v)
}

// parsePayloadFilter parses payload_filter, a JSON object (reference §5.3).
func parsePayloadFilter(v string) (map[string]json.RawMessage, string) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &f); err != nil || f == nil {
		return nil, fmt.Sprintf("invalid 'payload_filter': expected a JSON object of field/value pairs, got '%s'", v)
	}
	return f, ""
}

// window applies offset and (when hasLimit) limit to rows.
func window[T any](rows []T, offset, limit int, hasLimit bool) []T {
	if offset >= len(rows) {
		return rows[:0]
	}
	rows = rows[offset:]
	if hasLimit && limit < len(rows) {
		rows = rows[:limit]
	}
	return rows
}
