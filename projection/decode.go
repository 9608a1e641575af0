package projection

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// decodeFrame decodes one server frame of the event stream. It is the
// worker's hot path during catch-up, so instead of encoding/json (several
// passes and reflection per frame) it makes one validating pass over the
// frame's known shapes (reference §5.7):
//
//	{"type":"replay","position":N,"event":{Event}}
//	{"type":"replay_complete","replayed":N}
//	{"type":"lagged","missed":N}
//	{Event}                      a live event: an object without "type"
//	[{Event},...]                a live batch
//
// Payload and metadata alias data, which must not be modified afterwards.
// A frame with an unknown "type" decodes to the zero frame (kind 0), which
// the worker ignores. TestDecodeFrameMatchesGenerated checks it against the
// generated decoder.
func decodeFrame(data []byte) (frame, error) {
	return decodeFrameWith(data, nil)
}

// decodeFrameInto is decodeFrameWith into *f, which must be zero.
func decodeFrameInto(f *frame, data []byte, in *interner) error {
	var err error
	*f, err = decodeFrameWith(data, in)
	return err
}

// decodeFrameWith is decodeFrame with an interner for the strings that
// repeat from frame to frame (event types, tenants); in may be nil.
func decodeFrameWith(data []byte, in *interner) (frame, error) {
	d := decoder{data: data, in: in}
	d.skipSpace()
	switch d.peek() {
	case '[':
		evs, err := d.eventArray()
		if err != nil {
			return frame{}, err
		}
		if err := d.end(); err != nil {
			return frame{}, err
		}
		if evs == nil {
			evs = []Event{}
		}
		return frame{kind: frameLive, batch: evs}, nil
	case '{':
		f, err := d.objectFrame()
		if err != nil {
			return frame{}, err
		}
		if err := d.end(); err != nil {
			return frame{}, err
		}
		return f, nil
	}
	return frame{}, d.errorf("frame is neither an object nor an array")
}

type decoder struct {
	data []byte
	pos  int
	in   *interner
}

// interner keeps one copy of strings that repeat across frames.
type interner struct {
	m map[string]string
}

// maxInterned bounds an interner; it starts over when full.
const maxInterned = 4096

func (in *interner) intern(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if in.m == nil || len(in.m) >= maxInterned {
		in.m = make(map[string]string)
	}
	s := string(b)
	in.m[s] = s
	return s
}

// frameError is a malformed frame (or snapshot record).
type frameError struct {
	offset int
	msg    string
}

func (e *frameError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.offset, e.msg)
}

func (d *decoder) errorf(format string, args ...any) error {
	return &frameError{offset: d.pos, msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) end() error {
	d.skipSpace()
	if d.pos != len(d.data) {
		return d.errorf("data after the frame")
	}
	return nil
}

func (d *decoder) expect(c byte) error {
	d.skipSpace()
	if d.peek() != c {
		return d.errorf("want %q", c)
	}
	d.pos++
	return nil
}

// members calls member for each member of the object at the cursor, with
// the cursor on the member's value; member must consume the value.
func (d *decoder) members(member func(key []byte) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	d.skipSpace()
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		d.skipSpace()
		key, err := d.rawString()
		if err != nil {
			return err
		}
		if len(key) > 0 && key[0] == '"' {
			var k string
			if err := json.Unmarshal(key, &k); err != nil {
				return d.errorf("key: %v", err)
			}
			key = []byte(k)
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		d.skipSpace()
		if err := member(key); err != nil {
			return err
		}
		d.skipSpace()
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.errorf("want ',' or '}' in object")
		}
	}
}

// rawString returns the contents of the string at the cursor, unescaped
// only when it has no escapes (keys we look for never do); the caller
// decides.
func (d *decoder) rawString() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.errorf("want a string")
	}
	start := d.pos + 1
	// One tight pass: the strings of a frame are short, where a call to
	// bytes.IndexByte costs more than it saves.
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		switch c {
		case '"':
			d.pos = i + 1
			return d.data[start:i], nil
		case '\\':
			end, err := d.stringEnd(i)
			if err != nil {
				return nil, err
			}
			d.pos = end
			return d.data[start-1 : end], nil // quoted, with escapes
		default:
			d.pos = i
			return nil, d.errorf("control character in string")
		}
	}
	d.pos = len(d.data)
	return nil, d.errorf("unterminated string")
}

// stringEnd validates the rest of a string with escapes from i and returns
// the offset after its closing quote.
func (d *decoder) stringEnd(i int) (int, error) {
	for i < len(d.data) {
		switch c := d.data[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(d.data) {
				d.pos = i
				return 0, d.errorf("unterminated escape")
			}
			switch d.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d.data) {
					d.pos = i
					return 0, d.errorf("short \\u escape")
				}
				for _, h := range d.data[i+2 : i+6] {
					if !isHex(h) {
						d.pos = i
						return 0, d.errorf("bad \\u escape")
					}
				}
				i += 6
			default:
				d.pos = i
				return 0, d.errorf("bad escape")
			}
		case c < 0x20:
			d.pos = i
			return 0, d.errorf("control character in string")
		default:
			i++
		}
	}
	d.pos = len(d.data)
	return 0, d.errorf("unterminated string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// str decodes the string at the cursor.
func (d *decoder) str() (string, error) {
	return d.strWith(nil)
}

// strWith decodes the string at the cursor, interned by in when not nil.
func (d *decoder) strWith(in *interner) (string, error) {
	raw, err := d.rawString()
	if err != nil {
		return "", err
	}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", d.errorf("string: %v", err)
		}
		return s, nil
	}
	if in != nil {
		return in.intern(raw), nil
	}
	return string(raw), nil
}

// int decodes the integer at the cursor.
func (d *decoder) int() (int64, error) {
	start := d.pos
	if d.peek() == '-' {
		d.pos++
	}
	first := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	n, err := strconv.ParseInt(string(d.data[start:d.pos]), 10, 64)
	if err != nil || d.pos-first > 1 && d.data[first] == '0' ||
		d.pos < len(d.data) && (d.data[d.pos] == '.' || d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos = start
		return 0, d.errorf("want an integer")
	}
	return n, nil
}

// value validates the JSON value at the cursor and returns it.
func (d *decoder) value() (json.RawMessage, error) {
	start := d.pos
	if err := d.skipValue(0); err != nil {
		return nil, err
	}
	return d.data[start:d.pos:d.pos], nil
}

const maxDepth = 10000

func (d *decoder) skipValue(depth int) error {
	if depth > maxDepth {
		return d.errorf("nesting too deep")
	}
	d.skipSpace()
	switch c := d.peek(); {
	case c == '{':
		return d.members(func([]byte) error { return d.skipValue(depth + 1) })
	case c == '[':
		d.pos++
		d.skipSpace()
		if d.peek() == ']' {
			d.pos++
			return nil
		}
		for {
			if err := d.skipValue(depth + 1); err != nil {
				return err
			}
			d.skipSpace()
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return nil
			default:
				return d.errorf("want ',' or ']' in array")
			}
		}
	case c == '"':
		_, err := d.rawString()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	}
	return d.errorf("want a JSON value")
}

func (d *decoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.errorf("want %s", lit)
	}
	d.pos += len(lit)
	return nil
}

// number validates a JSON number.
func (d *decoder) number() error {
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.peek() == '-' {
		d.pos++
	}
	if d.peek() == '0' {
		d.pos++
	} else if digits() == 0 {
		return d.errorf("bad number")
	}
	if d.peek() == '.' {
		d.pos++
		if digits() == 0 {
			return d.errorf("bad number")
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if digits() == 0 {
			return d.errorf("bad number")
		}
	}
	return nil
}

// eventFields tracks the required members of an event.
type eventFields uint8

const (
	fID eventFields = 1 << iota
	fType
	fEntity
	fTenant
	fPayload
	fTimestamp
	fMetadata
	fVersion
	fAll = fID | fType | fEntity | fTenant | fPayload | fTimestamp | fMetadata | fVersion
)

var errNotEventMember = errors.New("not an event member")

// eventMember decodes the event member key into ev; it returns
// errNotEventMember, without consuming anything, for other keys.
func (d *decoder) eventMember(key []byte, ev *Event, seen *eventFields) error {
	var err error
	switch string(key) {
	case "id":
		ev.ID, err = d.str()
		*seen |= fID
	case "event_type":
		ev.EventType, err = d.strWith(d.in)
		*seen |= fType
	case "entity_id":
		ev.EntityID, err = d.str()
		*seen |= fEntity
	case "tenant_id":
		ev.TenantID, err = d.strWith(d.in)
		*seen |= fTenant
	case "payload":
		ev.Payload, err = d.value()
		*seen |= fPayload
	case "metadata":
		ev.Metadata, err = d.value()
		*seen |= fMetadata
	case "timestamp":
		var s []byte
		if s, err = d.rawString(); err == nil {
			ev.Timestamp, err = parseTime(s)
			if err != nil {
				err = d.errorf("timestamp: %v", err)
			}
		}
		*seen |= fTimestamp
	case "version":
		ev.Version, err = d.int()
		*seen |= fVersion
	default:
		return errNotEventMember
	}
	return err
}

func parseTime(s []byte) (time.Time, error) {
	if len(s) > 0 && s[0] == '"' {
		var t time.Time
		err := json.Unmarshal(s, &t)
		return t, err
	}
	return time.Parse(time.RFC3339Nano, string(s))
}

func (d *decoder) event() (Event, error) {
	var ev Event
	var seen eventFields
	err := d.members(func(key []byte) error {
		err := d.eventMember(key, &ev, &seen)
		if err == errNotEventMember {
			return d.skipValue(1)
		}
		return err
	})
	if err != nil {
		return Event{}, err
	}
	if seen&fAll != fAll {
		return Event{}, d.errorf("event lacks required members")
	}
	return ev, nil
}

func (d *decoder) eventArray() ([]Event, error) {
	if err := d.expect('['); err != nil {
		return nil, err
	}
	var evs []Event
	d.skipSpace()
	if d.peek() == ']' {
		d.pos++
		return evs, nil
	}
	for {
		ev, err := d.event()
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev)
		d.skipSpace()
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return evs, nil
		default:
			return nil, d.errorf("want ',' or ']' in array")
		}
	}
}

// objectFrame decodes an object frame: tagged by "type", or a bare event.
func (d *decoder) objectFrame() (frame, error) {
	var (
		typ                      string
		hasType                  bool
		inner, bare              Event
		innerSeen, bareSeen      eventFields
		hasInner                 bool
		position, replayed, miss int64
		hasPos, hasRepl, hasMiss bool
	)
	err := d.members(func(key []byte) error {
		var err error
		switch string(key) {
		case "type":
			hasType = true
			if d.peek() == 'n' {
				// "type": null is a frame of no known type.
				return d.literal("null")
			}
			typ, err = d.str()
		case "position":
			position, err = d.int()
			hasPos = true
		case "replayed":
			replayed, err = d.int()
			hasRepl = true
		case "missed":
			miss, err = d.int()
			hasMiss = true
		case "event":
			if d.peek() != '{' {
				return d.skipValue(1)
			}
			inner, err = d.event()
			innerSeen, hasInner = fAll, err == nil
		default:
			err = d.eventMember(key, &bare, &bareSeen)
			if err == errNotEventMember {
				err = d.skipValue(1)
			}
		}
		return err
	})
	if err != nil {
		return frame{}, err
	}
	if !hasType {
		if bareSeen&fAll != fAll {
			return frame{}, d.errorf("live event lacks required members")
		}
		return frame{kind: frameLive, event: bare}, nil
	}
	switch typ {
	case "replay":
		if !hasPos || !hasInner || innerSeen != fAll {
			return frame{}, d.errorf("replay frame lacks position or event")
		}
		return frame{kind: frameReplay, position: position, event: inner}, nil
	case "replay_complete":
		if !hasRepl {
			return frame{}, d.errorf("replay_complete frame lacks replayed")
		}
		return frame{kind: frameReplayComplete, replayed: replayed}, nil
	case "lagged":
		if !hasMiss {
			return frame{}, d.errorf("lagged frame lacks missed")
		}
		return frame{kind: frameLagged, missed: miss}, nil
	}
	return frame{}, nil
}
