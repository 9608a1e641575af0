package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrLineTooLong is returned by the stream readers when a line (or a
// record, or an event) is longer than their limit.
var ErrLineTooLong = errors.New("runtime: stream line too long")

// lineReader splits a stream into lines ended by CR, LF or CRLF, reusing
// one buffer: memory stays flat however long the stream.
type lineReader struct {
	r      io.Reader
	buf    []byte
	start  int // first unread byte
	end    int // end of the buffered bytes
	max    int
	skipLF bool // the last line ended with CR: a following LF belongs to it
	err    error
	onlyLF bool // split on LF only (JSON lines, where CR is trimmed)
	sep    byte // 0, or the record separator that also ends a line
}

func newLineReader(r io.Reader, max int) *lineReader {
	if max <= 0 {
		max = DefaultMaxResponseBytes
	}
	return &lineReader{r: r, buf: make([]byte, 4096), max: max}
}

// next returns the next line without its ending; it is valid until the
// next call. At the end of the stream a last unterminated line is
// returned, then io.EOF.
func (l *lineReader) next() ([]byte, error) {
	scanned := l.start
	for {
		if l.skipLF && l.start < l.end {
			l.skipLF = false
			if l.buf[l.start] == '\n' {
				l.start++
				scanned = l.start
				continue
			}
		}
		if i := l.index(l.buf[scanned:l.end]); i >= 0 {
			i += scanned
			line := l.buf[l.start:i]
			if l.buf[i] == '\r' && !l.onlyLF {
				l.skipLF = true
			}
			l.start = i + 1
			return line, nil
		}
		scanned = l.end
		if l.err != nil {
			if l.start < l.end {
				line := l.buf[l.start:l.end]
				l.start = l.end
				return line, nil
			}
			return nil, l.err
		}
		if l.end-l.start > l.max {
			return nil, fmt.Errorf("%w: over %d bytes", ErrLineTooLong, l.max)
		}
		// Make room: move the partial line to the front, grow if full.
		if l.start > 0 {
			n := copy(l.buf, l.buf[l.start:l.end])
			scanned -= l.start
			l.start, l.end = 0, n
		}
		if l.end == len(l.buf) {
			nb := make([]byte, 2*len(l.buf))
			copy(nb, l.buf[:l.end])
			l.buf = nb
		}
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		if err != nil {
			l.err = err
		}
	}
}

// index finds the first line ending in b.
func (l *lineReader) index(b []byte) int {
	if l.sep != 0 {
		i := bytes.IndexByte(b, '\n')
		if j := bytes.IndexByte(b, l.sep); j >= 0 && (i < 0 || j < i) {
			return j
		}
		return i
	}
	i := bytes.IndexByte(b, '\n')
	if l.onlyLF {
		return i
	}
	limit := len(b)
	if i >= 0 {
		limit = i
	}
	if j := bytes.IndexByte(b[:limit], '\r'); j >= 0 {
		return j
	}
	return i
}
