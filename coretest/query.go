package coretest

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
)

// query is a parsed events query (reference §5.3).
type query struct {
	tenant        string
	entityID      string
	hasEntity     bool
	eventType     string
	typePrefix    string
	excludes      []string
	since, until  int64 // inclusive bounds in Unix ns
	payloadFilter map[string]json.RawMessage
	limit         int // -1 = unbounded
	offset        int
	desc          bool
	integrity     string // strict archive read protocol, or ""
}

func newQuery() query {
	return query{since: math.MinInt64, until: math.MaxInt64, limit: -1}
}

// queryResult holds matching 0-based positions in ascending order.
type queryResult struct {
	total         int
	page          []int32
	entityVersion int64
}

// typeFilter returns, per interned type, whether q's type filters accept it.
func (s *store) typeFilter(q *query) []bool {
	ok := make([]bool, len(s.types))
	usePrefix := q.typePrefix != "" && !(q.eventType != "" && !q.hasEntity)
	for i := range s.types {
		name := s.types[i].name
		if q.eventType != "" && name != q.eventType {
			continue
		}
		if usePrefix && !strings.HasPrefix(name, q.typePrefix) {
			continue
		}
		excluded := false
		for _, p := range q.excludes {
			if strings.HasPrefix(name, p) {
				excluded = true
				break
			}
		}
		ok[i] = !excluded
	}
	return ok
}

// run executes q. The caller holds the read lock.
func (s *store) run(q *query) queryResult {
	var res queryResult
	t, tenantKnown := s.tenIdx[q.tenant]
	var candidates []int32
	checkTenant := false
	switch {
	case q.hasEntity:
		if e := s.lookupEntity(q.tenant, q.entityID); e >= 0 {
			candidates = s.entities[e].positions
		}
		// Core reports the entity's version across tenants (reference §14 #2).
		res.entityVersion = int64(s.versions[q.entityID])
	case !tenantKnown:
	case q.eventType != "":
		if ty, ok := s.typeIdx[q.eventType]; ok {
			candidates = s.types[ty].positions
			checkTenant = len(s.tenants) > 1
		}
	default:
		candidates = s.tenants[t].positions
	}
	if len(candidates) == 0 {
		return res
	}
	if q.since != math.MinInt64 {
		candidates = candidates[s.searchTS(candidates, q.since):]
	}
	if q.until != math.MaxInt64 {
		candidates = candidates[:s.searchTS(candidates, q.until+1)]
	}
	typeOK := s.typeFilter(q)
	var filter map[string]any
	if len(q.payloadFilter) > 0 {
		filter = decodeFilter(q.payloadFilter)
	}
	if filter == nil && !checkTenant && allTrue(typeOK) {
		// Every candidate matches: page through the index without a scan,
		// so deep pages of a large log stay cheap.
		res.total = len(candidates)
		res.page = pageOf(candidates, q.offset, q.limit, q.desc)
		return res
	}
	matches := make([]int32, 0, min(len(candidates), 1024))
	for _, p := range candidates {
		r := s.rec(int(p))
		if !typeOK[r.typ] {
			continue
		}
		if checkTenant && s.entities[r.entity].tenant != t {
			continue
		}
		if filter != nil && !payloadMatches(s.payload(r), filter) {
			continue
		}
		matches = append(matches, p)
	}
	res.total = len(matches)
	if q.desc {
		for i, j := 0, len(matches)-1; i < j; i, j = i+1, j-1 {
			matches[i], matches[j] = matches[j], matches[i]
		}
	}
	if q.offset >= len(matches) {
		matches = matches[:0]
	} else {
		matches = matches[q.offset:]
	}
	if q.limit >= 0 && q.limit < len(matches) {
		matches = matches[:q.limit]
	}
	res.page = matches
	return res
}

func allTrue(v []bool) bool {
	for _, b := range v {
		if !b {
			return false
		}
	}
	return true
}

// pageOf copies the page [offset, offset+limit) of positions, counted from
// the end when desc; limit < 0 means no limit.
func pageOf(positions []int32, offset, limit int, desc bool) []int32 {
	n := len(positions)
	if offset >= n {
		return nil
	}
	size := n - offset
	if limit >= 0 && limit < size {
		size = limit
	}
	page := make([]int32, size)
	for i := range page {
		if desc {
			page[i] = positions[n-1-offset-i]
		} else {
			page[i] = positions[offset+i]
		}
	}
	return page
}

// decodeFilter turns each filter value into its comparable form.
func decodeFilter(f map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(f))
	for k, v := range f {
		out[k] = decodeJSONValue(v)
	}
	return out
}

// decodeJSONValue decodes raw keeping numbers as json.Number, so that
// equality follows JSON values: 42 and "42" differ, 1 and 1.0 differ (as
// they do for Core's serde_json values).
func decodeJSONValue(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	return v
}

// payloadMatches reports whether every filter key is present in the payload
// object with a JSON-equal value.
func payloadMatches(payload []byte, filter map[string]any) bool {
	obj, ok := decodeJSONValue(payload).(map[string]any)
	if !ok {
		return false
	}
	for k, want := range filter {
		got, ok := obj[k]
		if !ok || !jsonEqual(got, want) {
			return false
		}
	}
	return true
}

func jsonEqual(a, b any) bool {
	switch av := a.(type) {
	case nil:
		return b == nil
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case json.Number:
		bv, ok := b.(json.Number)
		return ok && numberEqual(av, bv)
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !jsonEqual(av[i], bv[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !jsonEqual(x, y) {
				return false
			}
		}
		return true
	}
	return false
}

// numberEqual compares JSON numbers the way serde_json does: integers
// compare as integers, floats as floats, and an integer never equals a
// float.
func numberEqual(a, b json.Number) bool {
	aInt := !strings.ContainsAny(string(a), ".eE")
	bInt := !strings.ContainsAny(string(b), ".eE")
	if aInt != bInt {
		return false
	}
	if aInt {
		ai, err1 := a.Int64()
		bi, err2 := b.Int64()
		if err1 == nil && err2 == nil {
			return ai == bi
		}
		return string(a) == string(b)
	}
	af, err1 := a.Float64()
	bf, err2 := b.Float64()
	return err1 == nil && err2 == nil && af == bf
}
