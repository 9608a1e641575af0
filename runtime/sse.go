package runtime

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// SSEEvent is one event of a text/event-stream, as the WHATWG HTML
// standard's event stream interpretation dispatches it.
type SSEEvent struct {
	// Type is the event type: the last "event" field, "message" when none.
	Type string
	// ID is the last event ID when the event was dispatched: the value to
	// send as Last-Event-ID to resume after it.
	ID string
	// Data is the event's data: its "data" lines joined by LF. It is valid
	// until the next call to Next.
	Data []byte
	// Retry is the reconnection time the stream last set ("retry"), or 0.
	Retry time.Duration
}

// SSEReader reads the events of a text/event-stream incrementally, with
// memory bounded by its longest line and event: lines end with CR, LF or
// CRLF; a leading byte order mark is skipped; comments, unknown fields and
// events without data are ignored; an "id" containing NUL is ignored; a
// "retry" that is not all digits is ignored; an event cut by the end of the
// stream is discarded.
type SSEReader struct {
	lines  *lineReader
	max    int
	data   []byte
	typ    []byte
	types  string // the last dispatched type, reused while it does not change
	lastID string
	retry  time.Duration
	bom    bool // the start of the stream was checked for a BOM
}

// NewSSEReader returns a reader of the events of r whose lines and events
// are at most max bytes (DefaultMaxResponseBytes when max <= 0).
func NewSSEReader(r io.Reader, max int) *SSEReader {
	lr := newLineReader(r, max)
	return &SSEReader{lines: lr, max: lr.max, types: "message"}
}

// LastEventID returns the stream's last event ID buffer: what to send as
// Last-Event-ID to resume the stream.
func (s *SSEReader) LastEventID() string { return s.lastID }

// Retry returns the reconnection time the stream last set, or 0.
func (s *SSEReader) Retry() time.Duration { return s.retry }

var bom = []byte("\xef\xbb\xbf")

// Next returns the next event. At the end of the stream it returns io.EOF
// (an incomplete last event is discarded); a line or an event over the
// limit is an error wrapping ErrLineTooLong.
func (s *SSEReader) Next() (SSEEvent, error) {
	for {
		line, err := s.lines.next()
		if err != nil {
			return SSEEvent{}, err
		}
		if !s.bom {
			s.bom = true
			line = bytes.TrimPrefix(line, bom)
		}
		if len(line) == 0 {
			if ev, ok := s.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "event":
			s.typ = append(s.typ[:0], value...)
		case "data":
			if len(s.data)+len(value)+1 > s.max {
				s.data, s.typ = s.data[:0], s.typ[:0]
				return SSEEvent{}, fmt.Errorf("%w: event data over %d bytes", ErrLineTooLong, s.max)
			}
			s.data = append(s.data, value...)
			s.data = append(s.data, '\n')
		case "id":
			if bytes.IndexByte(value, 0) < 0 && string(value) != s.lastID {
				s.lastID = string(value)
			}
		case "retry":
			if ms, ok := digits(value); ok {
				s.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}

// dispatch ends the event being read: it is returned unless it has no data.
func (s *SSEReader) dispatch() (SSEEvent, bool) {
	if len(s.data) == 0 {
		s.typ = s.typ[:0]
		return SSEEvent{}, false
	}
	typ := "message"
	if len(s.typ) > 0 {
		if string(s.typ) != s.types {
			s.types = string(s.typ)
		}
		typ = s.types
	}
	ev := SSEEvent{Type: typ, ID: s.lastID, Data: s.data[:len(s.data)-1], Retry: s.retry}
	s.data, s.typ = s.data[:0], s.typ[:0]
	return ev, true
}

// digits parses an all-ASCII-digit value.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
