package durable

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/allsource-go/allsource/gen/durablestreams"
	"github.com/allsource-go/allsource/runtime"
)

// LiveMode is how a read follows the stream once it reaches the tail.
type LiveMode int

const (
	// LiveOff reads up to the tail and stops.
	LiveOff LiveMode = iota
	// LiveLongPoll follows with long-polls: each waits at the tail until
	// data comes or the server's timeout passes.
	LiveLongPoll
	// LiveSSE follows over server-sent events, reconnecting when the
	// server ends the connection.
	LiveSSE
	// LiveAuto catches up with plain reads, then follows over SSE.
	LiveAuto
)

// String names the mode.
func (m LiveMode) String() string {
	switch m {
	case LiveOff:
		return "off"
	case LiveLongPoll:
		return "long-poll"
	case LiveSSE:
		return "sse"
	case LiveAuto:
		return "auto"
	}
	return fmt.Sprintf("LiveMode(%d)", int(m))
}

// Offsets with a meaning of their own.
const (
	// OffsetStart is the start of a stream.
	OffsetStart = "-1"
	// OffsetNow is the stream's tail when the read starts.
	OffsetNow = "now"
)

// ReadOptions configure a read.
type ReadOptions struct {
	// Offset is where to start: OffsetStart (the default), OffsetNow, or a
	// Chunk's NextOffset saved earlier.
	Offset string
	// Live says how to follow the stream at its tail.
	Live LiveMode
	// Cursor is a Chunk's Cursor saved with its offset, echoed on the
	// first live request.
	Cursor string
}

// Chunk is a piece of a stream as a read delivers it.
type Chunk struct {
	// Data is the chunk's bytes; for a JSON stream, one JSON array of its
	// messages. It may be empty in a chunk that only reports UpToDate or
	// Closed.
	Data []byte
	// NextOffset is the offset after the chunk: save it to resume there.
	NextOffset string
	// UpToDate reports that the chunk reached the tail as it was then.
	UpToDate bool
	// Closed reports that the stream is closed and the chunk reached its
	// end: the read ends after it.
	Closed bool
	// Cursor is the last cursor the server sent, to save with NextOffset.
	Cursor string
}

// Read returns an iterator over the stream's chunks from o.Offset. Each
// response (or, over SSE, each batch of data events up to a control event)
// with data is one chunk; a chunk without data reports the first arrival
// at the tail and the end of a closed stream. The iteration ends at the
// end of a closed stream, at the tail in LiveOff mode, when the loop
// breaks, or with an error (an *Error). Failed requests are retried, and a
// dropped connection resumes from the last offset delivered, so that no
// data is lost or delivered twice.
func (s *Stream) Read(ctx context.Context, o ReadOptions) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		r := &reader{s: s, offset: o.Offset, cursor: o.Cursor, mode: o.Live}
		if r.offset == "" {
			r.offset = OffsetStart
		}
		if s.contentType != "" {
			r.setJSON(s.contentType)
		}
		r.run(ctx, yield)
	}
}

// Messages returns an iterator over the messages of a JSON stream, each
// as its JSON text.
func (s *Stream) Messages(ctx context.Context, o ReadOptions) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		r := &reader{s: s, offset: o.Offset, cursor: o.Cursor, mode: o.Live, json: 1}
		if r.offset == "" {
			r.offset = OffsetStart
		}
		r.run(ctx, func(ch Chunk, err error) bool {
			if err != nil {
				return yield(nil, err)
			}
			if len(ch.Data) == 0 {
				return true
			}
			var msgs []json.RawMessage
			if err := json.Unmarshal(ch.Data, &msgs); err != nil {
				return yield(nil, &Error{Op: "read", Path: s.path, Kind: ErrProtocol, Err: err})
			}
			for _, m := range msgs {
				if !yield(m, nil) {
					return false
				}
			}
			return true
		})
	}
}

// ReadJSON returns an iterator over the messages of a JSON stream decoded
// into T. A message that does not decode ends the iteration with an error
// matching ErrProtocol.
func ReadJSON[T any](ctx context.Context, s *Stream, o ReadOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for m, err := range s.Messages(ctx, o) {
			var v T
			if err == nil {
				if derr := json.Unmarshal(m, &v); derr != nil {
					err = &Error{Op: "read", Path: s.path, Kind: ErrProtocol, Err: derr}
				}
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// reader is the state of one read.
type reader struct {
	s              *Stream
	offset, cursor string
	mode           LiveMode
	json           int8 // 1 JSON stream, -1 not, 0 not known yet
	upToDate       bool // the last chunk delivered was up to date
	failures       int  // reconnections in a row without progress
	quick          int  // live requests in a row that ended at once with nothing new
}

func (r *reader) setJSON(ct string) {
	if IsJSON(ct) {
		r.json = 1
	} else {
		r.json = -1
	}
}

func (r *reader) fail(yield func(Chunk, error) bool, err error) {
	yield(Chunk{}, newError("read", r.s.path, err))
}

func (r *reader) run(ctx context.Context, yield func(Chunk, error) bool) {
	catchUp := r.mode == LiveOff || r.mode == LiveAuto
	for {
		if err := ctx.Err(); err != nil {
			r.fail(yield, err)
			return
		}
		start, from := time.Now(), r.offset
		if catchUp || r.mode == LiveLongPoll {
			live := !catchUp
			ch, err := r.get(ctx, catchUp)
			if err != nil {
				r.fail(yield, err)
				return
			}
			if !r.emit(ch, yield) || ch.Closed {
				return
			}
			if catchUp && ch.UpToDate {
				if r.mode == LiveOff {
					return
				}
				catchUp = false
			}
			if live && !r.pace(ctx, yield, start, from) {
				return
			}
			continue
		}
		if r.json == 0 {
			m, err := r.s.Head(ctx)
			if err != nil {
				yield(Chunk{}, err)
				return
			}
			r.setJSON(m.ContentType)
		}
		if done := r.sse(ctx, yield); done {
			return
		}
		// A connection that ended without progress was waited for by sse.
		if r.failures == 0 && !r.pace(ctx, yield, start, from) {
			return
		}
	}
}

// pace waits before the next live request when the last one, started at
// start from offset from, ended with nothing new sooner than the retry
// policy's BaseDelay: a server that answers a long-poll at once, or ends
// an SSE connection at once, would otherwise be asked again without
// pause. The wait grows as a retry's backoff does, and the first request
// that brings something new, or that the server held, resets it. It
// returns false when the read is over (the context ended).
func (r *reader) pace(ctx context.Context, yield func(Chunk, error) bool, start time.Time, from string) bool {
	pol := r.s.c.retry
	if r.offset != from || time.Since(start) >= pol.BaseDelay {
		r.quick = 0
		return true
	}
	r.quick++
	if err := runtime.Sleep(ctx, runtime.Backoff(r.quick, pol.BaseDelay, pol.MaxDelay)); err != nil {
		r.fail(yield, err)
		return false
	}
	return true
}

// get makes one catch-up or long-poll request.
func (r *reader) get(ctx context.Context, catchUp bool) (Chunk, error) {
	p := durablestreams.ReadParams{Offset: runtime.Some(r.offset)}
	var resp *http.Response
	opts := []runtime.Option{runtime.WithResponseInto(&resp), runtime.WithMaxResponseBytes(r.s.c.maxChunk)}
	if !catchUp {
		p.Live = runtime.Some(durablestreams.ReadLiveLongPoll)
		if r.cursor != "" {
			p.Cursor = runtime.Some(r.cursor)
		}
		opts = append(opts, liveOpts...)
	}
	res, err := r.s.c.api.Read(ctx, r.s.path, p, opts...)
	if err != nil {
		return Chunk{}, err
	}
	if next, ok := res.StreamNextOffset.Get(); ok {
		r.offset = next
	} else if res.StatusCode == http.StatusOK {
		return Chunk{}, &Error{Op: "read", Path: r.s.path, Kind: ErrProtocol, StatusCode: res.StatusCode, Err: errors.New("response without Stream-Next-Offset")}
	}
	if c, ok := res.StreamCursor.Get(); ok {
		r.cursor = c
	}
	ch := Chunk{NextOffset: r.offset, UpToDate: optTrue(res.StreamUpToDate), Closed: optTrue(res.StreamClosed), Cursor: r.cursor}
	if res.StatusCode == http.StatusOK {
		if r.json == 0 && resp != nil {
			r.setJSON(resp.Header.Get("Content-Type"))
		}
		data, err := r.jsonData([][]byte{res.Body})
		if err != nil {
			return Chunk{}, err
		}
		ch.Data = data
	}
	if ch.Closed {
		ch.UpToDate = true
	}
	return ch, nil
}

// jsonData returns the data of parts: for a JSON stream, their messages as
// one array (each part is an array), checked; for another, the parts joined.
func (r *reader) jsonData(parts [][]byte) ([]byte, error) {
	if r.json != 1 {
		if len(parts) == 1 {
			return parts[0], nil
		}
		return bytes.Join(parts, nil), nil
	}
	var out []byte
	for _, p := range parts {
		p = bytes.TrimSpace(p)
		if len(p) == 0 {
			continue
		}
		if !json.Valid(p) || p[0] != '[' {
			return nil, &Error{Op: "read", Path: r.s.path, Kind: ErrProtocol, Err: fmt.Errorf("JSON stream data is not a JSON array: %.64q", p)}
		}
		inner := bytes.TrimSpace(p[1 : len(p)-1])
		if len(inner) == 0 {
			continue
		}
		if out == nil {
			out = append(out, '[')
		} else {
			out = append(out, ',')
		}
		out = append(out, inner...)
	}
	if out != nil {
		out = append(out, ']')
	}
	return out, nil
}

// emit delivers ch unless it tells nothing new: no data, not closed, and
// up to date only if the last chunk was too.
func (r *reader) emit(ch Chunk, yield func(Chunk, error) bool) bool {
	news := len(ch.Data) > 0 || ch.Closed || (ch.UpToDate && !r.upToDate)
	r.upToDate = ch.UpToDate
	if !news {
		return true
	}
	return yield(ch, nil)
}

// sse reads over one SSE connection. It returns true when the read is
// over (closed stream, the loop broke, or an error was delivered) and
// false to reconnect from r.offset.
func (r *reader) sse(ctx context.Context, yield func(Chunk, error) bool) bool {
	p := durablestreams.ReadParams{Offset: runtime.Some(r.offset), Live: runtime.Some(durablestreams.ReadLiveSse)}
	if r.cursor != "" {
		p.Cursor = runtime.Some(r.cursor)
	}
	var resp *http.Response
	opts := append([]runtime.Option{runtime.WithResponseInto(&resp), runtime.WithMaxResponseBytes(r.s.c.maxChunk)}, liveOpts...)
	var pending [][]byte
	pendingBytes := 0
	progressed, checked := false, false
	for ev, err := range r.s.c.api.ReadStream(ctx, r.s.path, p, opts...) {
		if err != nil {
			var pe *runtime.ProtocolError
			if ctx.Err() == nil && resp != nil && errors.As(err, &pe) && strings.HasPrefix(pe.Reason, "reading") && !errors.Is(err, runtime.ErrLineTooLong) {
				break // the connection dropped: resume from r.offset
			}
			r.fail(yield, err)
			return true
		}
		if !checked {
			checked = true
			if resp != nil && !strings.HasPrefix(strings.ToLower(resp.Header.Get("Content-Type")), "text/event-stream") {
				yield(Chunk{}, &Error{Op: "read", Path: r.s.path, Kind: ErrProtocol, StatusCode: resp.StatusCode, Err: fmt.Errorf("SSE response of type %q", resp.Header.Get("Content-Type"))})
				return true
			}
		}
		switch ev.Type {
		case "data":
			data := []byte(ev.Raw)
			if resp != nil && strings.EqualFold(resp.Header.Get("Stream-SSE-Data-Encoding"), "base64") {
				dec, err := decodeBase64(ev.Raw)
				if err != nil {
					yield(Chunk{}, &Error{Op: "read", Path: r.s.path, Kind: ErrProtocol, Err: fmt.Errorf("base64 data event: %w", err)})
					return true
				}
				data = dec
			}
			if pendingBytes += len(data); int64(pendingBytes) > r.s.c.maxChunk {
				yield(Chunk{}, &Error{Op: "read", Path: r.s.path, Kind: ErrTooLarge, StatusCode: resp.StatusCode,
					Err: fmt.Errorf("the data events before a control event hold more than %d bytes (WithMaxChunkBytes)", r.s.c.maxChunk)})
				return true
			}
			pending = append(pending, data)
		case "control":
			c := ev.Control
			if c == nil || c.StreamNextOffset == "" {
				yield(Chunk{}, &Error{Op: "read", Path: r.s.path, Kind: ErrProtocol, Err: errors.New("control event without streamNextOffset")})
				return true
			}
			data, err := r.jsonData(pending)
			if err != nil {
				yield(Chunk{}, err)
				return true
			}
			pending, pendingBytes = pending[:0], 0
			r.offset = c.StreamNextOffset
			if cur, ok := c.StreamCursor.Get(); ok {
				r.cursor = cur
			}
			closed := c.StreamClosed.Or(false)
			ch := Chunk{Data: data, NextOffset: r.offset, UpToDate: c.UpToDate.Or(false) || closed, Closed: closed, Cursor: r.cursor}
			progressed = true
			r.failures = 0
			if !r.emit(ch, yield) || closed {
				return true
			}
		}
	}
	if ctx.Err() != nil {
		r.fail(yield, ctx.Err())
		return true
	}
	if progressed {
		return false
	}
	// The connection ended without a control event: back off, and give up
	// after as many attempts in a row as the retry policy allows.
	r.failures++
	pol := r.s.c.retry
	if r.failures > pol.MaxRetries {
		yield(Chunk{}, &Error{Op: "read", Path: r.s.path, Kind: ErrNetwork, Err: fmt.Errorf("SSE connection ended without progress %d times in a row", r.failures)})
		return true
	}
	if err := runtime.Sleep(ctx, runtime.Backoff(r.failures, pol.BaseDelay, pol.MaxDelay)); err != nil {
		r.fail(yield, err)
		return true
	}
	return false
}

// decodeBase64 decodes the data of a base64 SSE event: its lines joined,
// CR and LF removed.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	}
	return base64.StdEncoding.DecodeString(s)
}
