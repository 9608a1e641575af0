package allsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/runtime"
)

// Frame is one server frame of the event stream: core.StreamReplay (a
// replayed event with its position), core.StreamReplayComplete,
// core.StreamEvent (a live event), core.StreamEventBatch (live events
// batched by the server), core.StreamLagged (events were dropped for this
// slow client) or core.StreamUnknown (a frame type from a newer server).
type Frame = core.StreamFrame

// StreamOptions configures a subscription to Core's event stream.
type StreamOptions struct {
	// ConsumerID makes the stream durable: Core replays every event after
	// the consumer's cursor that matches its filters (replay frames, then
	// one replay_complete frame) before going live. Register the consumer
	// first (RegisterConsumer). Empty means live events only.
	ConsumerID string
	// Filters restricts live events to these types, exact or "x.*" (see
	// ValidateFilter), sent in a subscribe frame. Core applies it after the
	// replay. Empty means every type (or, in durable mode, the consumer's
	// own filters).
	Filters []string
	// Reconnect redials after the connection drops, with exponential
	// backoff and jitter between ReconnectMin and ReconnectMax. A durable
	// stream then replays from the consumer's cursor again, so frames
	// already seen may repeat: deduplicate by per-entity version.
	Reconnect bool
	// ReconnectMin and ReconnectMax bound the backoff (100 ms and 30 s by
	// default).
	ReconnectMin, ReconnectMax time.Duration
	// OnReconnect, if set, is called before each redial with the error that
	// ended the previous connection.
	OnReconnect func(attempt int, err error)
	// ReadLimit bounds one frame's size in bytes (16 MiB by default).
	ReadLimit int64
}

// Stream is a subscription to Core's event stream over a WebSocket. Next is
// not safe for concurrent use; Close may be called from any goroutine.
type Stream struct {
	c    CoreClient
	opts StreamOptions
	url  string

	mu     sync.Mutex
	conn   *websocket.Conn
	reads  chan readResult // the frames conn's reader has read
	done   chan struct{}   // closed to stop conn's reader
	closed bool

	attempt int // consecutive failed connections
}

// Subscribe connects to Core's event stream. It returns once the WebSocket
// handshake has succeeded (and the subscribe frame, if any, is sent).
func (c CoreClient) Subscribe(ctx context.Context, opts StreamOptions) (*Stream, error) {
	if c.api == nil {
		return nil, errZeroClient
	}
	for _, f := range opts.Filters {
		if err := ValidateFilter(f); err != nil {
			return nil, err
		}
	}
	if opts.ReconnectMin <= 0 {
		opts.ReconnectMin = 100 * time.Millisecond
	}
	if opts.ReconnectMax <= 0 {
		opts.ReconnectMax = 30 * time.Second
	}
	if opts.ReconnectMax < opts.ReconnectMin {
		return nil, &ArgumentError{Field: "ReconnectMax", Value: opts.ReconnectMax.String(), Reason: "below ReconnectMin"}
	}
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = 16 << 20
	}
	u := c.api.Runtime().BaseURL()
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	var p core.StreamEventsParams
	if opts.ConsumerID != "" {
		p.ConsumerID = runtime.Some(opts.ConsumerID)
	}
	s := &Stream{c: c, opts: opts, url: strings.TrimRight(u.String(), "/") + core.StreamEventsPath(p)}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// StreamError is a failure of the event stream's connection.
type StreamError struct {
	// Op says what failed: "dial", "read" or "write".
	Op string
	// URL is the stream's URL, without credentials.
	URL string
	// Err is the cause.
	Err error
}

// Error describes the failure.
func (e *StreamError) Error() string {
	return fmt.Sprintf("allsource: stream %s %s: %v", e.Op, e.URL, e.Err)
}

// Unwrap returns the cause.
func (e *StreamError) Unwrap() error { return e.Err }

func (s *Stream) connect(ctx context.Context) error {
	rt := s.c.api.Runtime()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return &StreamError{Op: "dial", URL: s.url, Err: err}
	}
	if err := rt.Authorize(ctx, hreq); err != nil {
		return &StreamError{Op: "dial", URL: s.url, Err: err}
	}
	conn, resp, err := websocket.Dial(ctx, hreq.URL.String(), &websocket.DialOptions{
		HTTPClient: rt.HTTPClient(),
		HTTPHeader: hreq.Header,
	})
	if err != nil {
		if secrets := addedQueryValues(s.url, hreq.URL); len(secrets) > 0 {
			// A key sent as a query parameter is in the dialled URL,
			// which the dial error repeats: hide it.
			err = &redactedError{err: err, secrets: secrets}
		}
		if resp != nil {
			err = fmt.Errorf("handshake answered %s: %w", resp.Status, err)
		}
		return &StreamError{Op: "dial", URL: s.url, Err: err}
	}
	conn.SetReadLimit(s.opts.ReadLimit)
	if len(s.opts.Filters) > 0 {
		frame, err := core.EncodeStreamClientFrame(core.SubscribeFrame{Type: core.SubscribeFrameTypeSubscribe, Filters: s.opts.Filters})
		if err == nil {
			err = conn.Write(ctx, websocket.MessageText, frame)
		}
		if err != nil {
			conn.CloseNow()
			return &StreamError{Op: "write", URL: s.url, Err: err}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		conn.CloseNow()
		return ErrStreamClosed
	}
	s.conn = conn
	return nil
}

// readAhead bounds the frames read ahead of Next.
const readAhead = 16

// readResult is a frame read, or the error that ended the connection.
type readResult struct {
	typ  websocket.MessageType
	data []byte
	err  error
}

// readLoop reads conn's frames into reads until the connection fails or is
// closed, then sends the error and returns. The reads are not bound to the
// context of a Next call: coder/websocket closes a connection whose read
// context ends, so a Next whose context expired would leave the stream
// dead. Next waits on reads and its context instead. A Next with a context
// that cannot end reads conn itself, as long as no readLoop was started:
// that saves a goroutine hop per frame.
func readLoop(conn *websocket.Conn, reads chan<- readResult, done <-chan struct{}) {
	for {
		typ, data, err := conn.Read(context.Background())
		select {
		case reads <- readResult{typ, data, err}:
		case <-done:
			return
		}
		if err != nil {
			return
		}
	}
}

// ErrStreamClosed is returned by Next after Close.
var ErrStreamClosed = errors.New("allsource: stream closed")

// Next returns the next frame. It returns io.EOF when the server closed the
// stream normally and Reconnect is off, ErrStreamClosed after Close, and a
// *StreamError or *core.StreamFrameError for a failed connection or a
// malformed frame. With Reconnect on, a dropped connection is redialled
// until ctx ends. A ctx that ends returns its error and leaves the stream
// usable.
func (s *Stream) Next(ctx context.Context) (Frame, error) {
	data, err := s.NextRaw(ctx)
	if err != nil {
		return nil, err
	}
	return core.DecodeStreamFrame(data)
}

// NextRaw is Next without decoding: it returns the next text frame as
// sent, for a caller with a decoder of its own (the projection worker's,
// made for catch-up throughput). The caller owns the bytes.
func (s *Stream) NextRaw(ctx context.Context) ([]byte, error) {
	for {
		s.mu.Lock()
		conn, reads, closed := s.conn, s.reads, s.closed
		if conn != nil && reads == nil && ctx.Done() != nil {
			s.reads, s.done = make(chan readResult, readAhead), make(chan struct{})
			reads = s.reads
			go readLoop(conn, s.reads, s.done)
		}
		s.mu.Unlock()
		if closed {
			return nil, ErrStreamClosed
		}
		var readErr error
		if conn != nil {
			var r readResult
			if reads == nil {
				r.typ, r.data, r.err = conn.Read(context.Background())
			} else {
				select {
				case r = <-reads:
				case <-ctx.Done():
					// The connection stays open; the next call goes on
					// reading.
					return nil, ctx.Err()
				}
			}
			typ, data, err := r.typ, r.data, r.err
			if err == nil {
				s.attempt = 0
				if typ != websocket.MessageText {
					continue // binary frames carry nothing for us
				}
				return data, nil
			}
			readErr = err
			conn.CloseNow()
			s.mu.Lock()
			if s.conn == conn {
				s.conn, s.reads, s.done = nil, nil, nil
			}
			closed = s.closed
			s.mu.Unlock()
			if closed {
				return nil, ErrStreamClosed
			}
			if !s.opts.Reconnect {
				if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
					return nil, io.EOF
				}
				return nil, &StreamError{Op: "read", URL: s.url, Err: err}
			}
		}
		if err := s.redial(ctx, readErr); err != nil {
			return nil, err
		}
	}
}

// redial waits out the backoff, then connects again; it keeps trying until
// it succeeds or ctx ends.
func (s *Stream) redial(ctx context.Context, cause error) error {
	for {
		s.attempt++
		if s.opts.OnReconnect != nil {
			s.opts.OnReconnect(s.attempt, cause)
		}
		t := time.NewTimer(runtime.Backoff(s.attempt, s.opts.ReconnectMin, s.opts.ReconnectMax))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		err := s.connect(ctx)
		if err == nil || errors.Is(err, ErrStreamClosed) || ctx.Err() != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		cause = err
	}
}

// Frames returns the stream's frames as an iterator that ends at the first
// error (yielded once); io.EOF, ErrStreamClosed and ctx's end are not
// yielded as errors.
func (s *Stream) Frames(ctx context.Context) iter.Seq2[Frame, error] {
	return func(yield func(Frame, error) bool) {
		for {
			f, err := s.Next(ctx)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrStreamClosed) && ctx.Err() == nil {
					yield(nil, err)
				}
				return
			}
			if !yield(f, nil) {
				return
			}
		}
	}
}

// Close closes the stream cleanly (a WebSocket close frame with status
// 1000). Next returns ErrStreamClosed afterwards.
func (s *Stream) Close() error {
	s.mu.Lock()
	conn, done := s.conn, s.done
	s.closed, s.conn, s.reads, s.done = true, nil, nil, nil
	s.mu.Unlock()
	if done != nil {
		close(done)
	}
	if conn == nil {
		return nil
	}
	return conn.Close(websocket.StatusNormalClosure, "")
}

// addedQueryValues returns the values of the query parameters of u that
// the URL before authorization, orig, does not have: credentials.
func addedQueryValues(orig string, u *url.URL) []string {
	before, err := url.Parse(orig)
	if err != nil {
		return nil
	}
	had := before.Query()
	var out []string
	for k, vs := range u.Query() {
		if _, ok := had[k]; ok {
			continue
		}
		for _, v := range vs {
			if v != "" {
				out = append(out, v, url.QueryEscape(v))
			}
		}
	}
	return out
}

// redactedError shows err with every secret replaced.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "REDACTED")
	}
	return msg
}

func (e *redactedError) Unwrap() error { return e.err }
