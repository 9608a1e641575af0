package coretest

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"
)

// The store keeps every event in memory in a compact form: one fixed-size
// record per event in fixed-size blocks (so growth never copies the whole
// log), payload and metadata bytes in a chunked arena, and indexes that
// hold int32 positions. Strings that repeat (event types, tenants, entity
// ids) are interned once. Positions are 0-based slice indexes internally
// and 1-based on the wire, like Core's global offsets.

const (
	blockShift = 16
	blockSize  = 1 << blockShift
	arenaChunk = 4 << 20
)

// record is one stored event.
type record struct {
	id      [16]byte
	ts      int64  // Unix nanoseconds, strictly increasing with position
	version uint32 // per-entity version, 1-based
	typ     uint32 // index into store.types
	entity  uint32 // index into store.entities
	chunk   uint32 // arena chunk holding payload then metadata
	off     uint32 // offset of the payload in the chunk
	plen    uint32 // payload length; the top bit flags metadata
}

// hasMeta flags, in record.plen, metadata stored after the payload as a
// 4-byte little-endian length and the bytes.
const hasMeta = 1 << 31

// payload returns the record's payload bytes. The caller holds a lock.
func (s *store) payload(r *record) []byte {
	n := r.plen &^ hasMeta
	return s.arena[r.chunk][r.off : r.off+n : r.off+n]
}

// metadata returns the record's metadata bytes, or nil. The caller holds a
// lock.
func (s *store) metadata(r *record) []byte {
	if r.plen&hasMeta == 0 {
		return nil
	}
	chunk := s.arena[r.chunk]
	m := r.off + r.plen&^hasMeta
	n := binary.LittleEndian.Uint32(chunk[m:])
	return chunk[m+4 : m+4+n : m+4+n]
}

// entity is the state kept per (tenant, entity id).
type entity struct {
	id        string
	tenant    uint32
	positions []int32
}

// typeInfo is the state kept per event type.
type typeInfo struct {
	name      string
	positions []int32
}

// tenantInfo is the state kept per tenant.
type tenantInfo struct {
	name      string
	positions []int32
}

type entityKey struct {
	tenant uint32
	id     string
}

// store is the event log with its indexes. All methods are safe for
// concurrent use.
type store struct {
	mu       sync.RWMutex
	blocks   [][]record
	n        int
	arena    [][]byte
	cur      int // arena chunk that small values are appended to, or -1
	types    []typeInfo
	typeIdx  map[string]uint32
	tenants  []tenantInfo
	tenIdx   map[string]uint32
	entities []entity
	entIdx   map[entityKey]uint32
	versions map[string]uint32 // entity id -> version, across tenants
	lastTS   int64
	uuids    uuidSource
	now      func() time.Time
}

func newStore(now func() time.Time) *store {
	return &store{
		typeIdx:  make(map[string]uint32),
		tenIdx:   make(map[string]uint32),
		entIdx:   make(map[entityKey]uint32),
		versions: make(map[string]uint32),
		cur:      -1,
		now:      now,
	}
}

// wireEvent is the wire form of a stored event (reference §4.1).
type wireEvent struct {
	ID        string          `json:"id"`
	EventType string          `json:"event_type"`
	EntityID  string          `json:"entity_id"`
	TenantID  string          `json:"tenant_id"`
	Payload   json.RawMessage `json:"payload"`
	Timestamp time.Time       `json:"timestamp"`
	Metadata  json.RawMessage `json:"metadata"`
	Version   int64           `json:"version"`
	position  int             // 1-based global position
}

// newEvent is an event to append.
type newEvent struct {
	eventType       string
	entityID        string
	tenantID        string
	payload         []byte // compact JSON
	metadata        []byte // compact JSON or nil
	expectedVersion *uint64
	// restored fields, set when replaying the data directory
	restoredID *[16]byte
	restoredTS int64
}

// appendResult is the outcome of one append.
type appendResult struct {
	id      [16]byte
	ts      int64
	version uint32
	pos     int
}

// versionConflict is returned by append when expected_version does not match.
type versionConflict struct {
	expected, current uint64
}

func (e *versionConflict) Error() string { return "version conflict" }

func (s *store) rec(pos int) *record {
	return &s.blocks[pos>>blockShift][pos&(blockSize-1)]
}

func (s *store) internType(name string) uint32 {
	if i, ok := s.typeIdx[name]; ok {
		return i
	}
	i := uint32(len(s.types))
	name = strings.Clone(name)
	s.types = append(s.types, typeInfo{name: name})
	s.typeIdx[name] = i
	return i
}

func (s *store) internTenant(name string) uint32 {
	if i, ok := s.tenIdx[name]; ok {
		return i
	}
	i := uint32(len(s.tenants))
	name = strings.Clone(name)
	s.tenants = append(s.tenants, tenantInfo{name: name})
	s.tenIdx[name] = i
	return i
}

// lookupEntity returns the entity index, or -1.
func (s *store) lookupEntity(tenant, id string) int {
	t, ok := s.tenIdx[tenant]
	if !ok {
		return -1
	}
	e, ok := s.entIdx[entityKey{t, id}]
	if !ok {
		return -1
	}
	return int(e)
}

func (s *store) storeBytes(payload, metadata []byte) (chunk, off uint32) {
	need := len(payload)
	if metadata != nil {
		need += 4 + len(metadata)
	}
	var dst *[]byte
	if need > arenaChunk/4 {
		// Large values get a chunk of their own.
		s.arena = append(s.arena, make([]byte, 0, need))
		chunk = uint32(len(s.arena) - 1)
	} else {
		if s.cur < 0 || cap(s.arena[s.cur])-len(s.arena[s.cur]) < need {
			s.arena = append(s.arena, make([]byte, 0, arenaChunk))
			s.cur = len(s.arena) - 1
		}
		chunk = uint32(s.cur)
	}
	dst = &s.arena[chunk]
	off = uint32(len(*dst))
	*dst = append(*dst, payload...)
	if metadata != nil {
		*dst = binary.LittleEndian.AppendUint32(*dst, uint32(len(metadata)))
		*dst = append(*dst, metadata...)
	}
	return chunk, off
}

// append adds one event. The caller holds the write lock.
func (s *store) append(ne *newEvent) (appendResult, error) {
	t := s.internTenant(ne.tenantID)
	key := entityKey{t, ne.entityID}
	ei, ok := s.entIdx[key]
	// Core keys the version counter by entity id alone, across tenants
	// (reference §14 #2): tenant B's first event on an entity tenant A
	// wrote gets the next version.
	current := uint64(s.versions[ne.entityID])
	if ne.expectedVersion != nil && *ne.expectedVersion != current {
		return appendResult{}, &versionConflict{expected: *ne.expectedVersion, current: current}
	}
	if !ok {
		ei = uint32(len(s.entities))
		id := strings.Clone(ne.entityID)
		s.entities = append(s.entities, entity{id: id, tenant: t})
		s.entIdx[entityKey{t, id}] = ei
	}
	if current == 0 {
		// Key the counter with the entity's interned id.
		s.versions[s.entities[ei].id] = 0
	}
	ty := s.internType(ne.eventType)
	pos := s.n
	if pos>>blockShift == len(s.blocks) {
		s.blocks = append(s.blocks, make([]record, blockSize))
	}
	r := s.rec(pos)
	if ne.restoredID != nil {
		r.id = *ne.restoredID
		r.ts = ne.restoredTS
	} else {
		r.id = s.uuids.next()
		ts := s.now().UnixNano()
		if ts <= s.lastTS {
			ts = s.lastTS + 1
		}
		r.ts = ts
	}
	if r.ts > s.lastTS {
		s.lastTS = r.ts
	}
	r.version = uint32(current + 1)
	r.typ = ty
	r.entity = ei
	r.chunk, r.off = s.storeBytes(ne.payload, ne.metadata)
	r.plen = uint32(len(ne.payload))
	if ne.metadata != nil {
		r.plen |= hasMeta
	}
	s.versions[ne.entityID] = r.version
	s.n++
	p32 := int32(pos)
	s.entities[ei].positions = append(s.entities[ei].positions, p32)
	s.types[ty].positions = append(s.types[ty].positions, p32)
	s.tenants[t].positions = append(s.tenants[t].positions, p32)
	return appendResult{id: r.id, ts: r.ts, version: r.version, pos: pos}, nil
}

// event materialises the event at 0-based position pos. The caller holds a
// lock. Payload and metadata alias the arena, which is append-only.
func (s *store) event(pos int) wireEvent {
	r := s.rec(pos)
	ent := &s.entities[r.entity]
	ev := wireEvent{
		EventType: s.types[r.typ].name,
		EntityID:  ent.id,
		TenantID:  s.tenants[ent.tenant].name,
		Payload:   s.payload(r),
		Timestamp: time.Unix(0, r.ts).UTC(),
		Version:   int64(r.version),
		position:  pos + 1,
	}
	ev.ID = formatUUID(r.id)
	ev.Metadata = s.metadata(r)
	return ev
}

// appendEventJSON appends the JSON encoding of ev (reference §4.1: metadata
// is null when absent, timestamps are RFC 3339 UTC with nanoseconds).
func appendEventJSON(b []byte, ev *wireEvent) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, ev.ID...)
	b = append(b, `","event_type":`...)
	b = appendJSONString(b, ev.EventType)
	b = append(b, `,"entity_id":`...)
	b = appendJSONString(b, ev.EntityID)
	b = append(b, `,"tenant_id":`...)
	b = appendJSONString(b, ev.TenantID)
	b = append(b, `,"payload":`...)
	b = append(b, ev.Payload...)
	b = append(b, `,"timestamp":"`...)
	b = appendTimestamp(b, ev.Timestamp)
	b = append(b, `","metadata":`...)
	if len(ev.Metadata) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, ev.Metadata...)
	}
	b = append(b, `,"version":`...)
	b = appendInt(b, ev.Version)
	return append(b, '}')
}

func appendTimestamp(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, time.RFC3339Nano)
}

func formatTimestamp(ts int64) string {
	return time.Unix(0, ts).UTC().Format(time.RFC3339Nano)
}

func appendInt(b []byte, v int64) []byte {
	var buf [20]byte
	i := len(buf)
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	for {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return append(b, buf[i:]...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// uuidSource hands out random version 4 UUIDs, reading randomness in
// blocks rather than once per event.
type uuidSource struct {
	buf [64 * 16]byte
	off int
}

func (u *uuidSource) next() [16]byte {
	if u.off == 0 || u.off == len(u.buf) {
		_, _ = rand.Read(u.buf[:]) // crypto/rand.Read never fails
		u.off = 0
	}
	var id [16]byte
	copy(id[:], u.buf[u.off:u.off+16])
	u.off += 16
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

func newUUID() [16]byte {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hexDigits[c>>4]
		b[j+1] = hexDigits[c&0xf]
		j += 2
	}
	return string(b[:])
}

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 {
		return u, false
	}
	j := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return u, false
			}
			continue
		}
		h, ok1 := unhex(s[i])
		l, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = h<<4 | l
		j++
		i++
	}
	return u, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// findByID returns the 0-based position of the event with id, or -1. It
// scans from the newest event: getEvent is rare, and an id index would cost
// more memory per event than the whole record.
func (s *store) findByID(id [16]byte) int {
	for pos := s.n - 1; pos >= 0; pos-- {
		if s.rec(pos).id == id {
			return pos
		}
	}
	return -1
}

// searchTS returns the first index i in positions with ts(positions[i]) >= ts.
// Timestamps grow with position, so position lists are sorted by time.
func (s *store) searchTS(positions []int32, ts int64) int {
	return sort.Search(len(positions), func(i int) bool { return s.rec(int(positions[i])).ts >= ts })
}

// compactJSON returns raw compacted, or an error when it is not JSON. Raw
// is already valid JSON (it was decoded), so without insignificant
// whitespace it is returned as it is.
func compactJSON(raw []byte) ([]byte, error) {
	if !bytes.ContainsAny(raw, " \t\r\n") {
		return raw, nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
