package durable

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/allsource-go/allsource/gen/durablestreams"
	"github.com/allsource-go/allsource/runtime"
)

// Stream is a handle on one stream. Making one does no I/O; it is safe for
// concurrent use.
type Stream struct {
	c           *Client
	path        string
	contentType string
}

// Path returns the stream's path (without a leading "/").
func (s *Stream) Path() string { return s.path }

// WithContentType returns a handle on the same stream whose appends carry
// contentType (the stream's, fixed when it was created). Without it,
// appends are sent as application/octet-stream, and AppendJSON as
// application/json.
func (s *Stream) WithContentType(contentType string) *Stream {
	cp := *s
	cp.contentType = contentType
	return &cp
}

// ContentType returns the content type of the handle's appends, "" when
// none was set.
func (s *Stream) ContentType() string { return s.contentType }

// CreateOptions configure a new stream.
type CreateOptions struct {
	// ContentType is the stream's content type; the handle's when empty,
	// and the server's default (application/octet-stream) when both are.
	ContentType string
	// TTL expires the stream after this long without activity (whole
	// seconds); zero means none.
	TTL time.Duration
	// ExpiresAt expires the stream at this time; zero means never. Only
	// one of TTL and ExpiresAt may be set.
	ExpiresAt time.Time
	// Closed creates the stream closed, with Data as its whole content.
	Closed bool
	// Data is the initial content.
	Data []byte
	// ForkFrom makes the stream a fork of the stream at this path, from
	// ForkOffset (the source's tail when empty).
	ForkFrom, ForkOffset string
}

// CreateResult is the outcome of Create.
type CreateResult struct {
	// Created is false when the stream already existed with the same
	// configuration.
	Created bool
	// NextOffset is the stream's tail.
	NextOffset string
	// Closed reports that the stream is closed.
	Closed bool
}

// Create creates the stream. Creating it again with the same configuration
// succeeds (Created false); with another, it fails with ErrExists.
func (s *Stream) Create(ctx context.Context, o CreateOptions) (*CreateResult, error) {
	var p durablestreams.CreateParams
	ct := o.ContentType
	if ct == "" {
		ct = s.contentType
	}
	if ct != "" {
		p.ContentType = runtime.Some(ct)
	}
	if o.TTL < 0 || o.TTL%time.Second != 0 {
		return nil, &Error{Op: "create", Path: s.path, Kind: ErrInvalidArgument, Err: fmt.Errorf("TTL %v is not a whole number of seconds", o.TTL)}
	}
	if o.TTL > 0 && !o.ExpiresAt.IsZero() {
		return nil, &Error{Op: "create", Path: s.path, Kind: ErrInvalidArgument, Err: fmt.Errorf("both TTL and ExpiresAt are set")}
	}
	if o.TTL > 0 {
		p.StreamTTL = runtime.Some(strconv.FormatInt(int64(o.TTL/time.Second), 10))
	}
	if !o.ExpiresAt.IsZero() {
		p.StreamExpiresAt = runtime.Some(o.ExpiresAt.UTC().Format(time.RFC3339Nano))
	}
	if o.Closed {
		p.StreamClosed = runtime.Some(durablestreams.ClosedFlagTrue)
	}
	if o.ForkFrom != "" {
		p.StreamForkedFrom = runtime.Some("/" + strings.TrimPrefix(o.ForkFrom, "/"))
		if o.ForkOffset != "" {
			p.StreamForkOffset = runtime.Some(o.ForkOffset)
		}
	}
	var body io.Reader
	if len(o.Data) > 0 {
		body = bytes.NewBuffer(o.Data) // sent as it is, without a copy
	}
	res, err := s.c.api.Create(ctx, s.path, p, body)
	if err != nil {
		return nil, newError("create", s.path, err)
	}
	return &CreateResult{Created: res.StatusCode == http.StatusCreated, NextOffset: res.StreamNextOffset, Closed: optTrue(res.StreamClosed)}, nil
}

// AppendOption configures one append.
type AppendOption func(*appendConfig)

// appendConfig is what the options of one append set.
type appendConfig struct {
	params durablestreams.AppendParams
	retry  bool
}

// WithSeq sends Stream-Seq: the server refuses the append (ErrSeqConflict)
// unless seq is bytewise greater than the previous append's.
func WithSeq(seq string) AppendOption {
	return func(c *appendConfig) { c.params.StreamSeq = runtime.Some(seq) }
}

// WithAtLeastOnce retries the append as reads are retried: after the
// statuses of the client's retry policy (by default 408, 429, 500, 502,
// 503 and 504) and after transport failures. The append is then stored at
// least once. Without it, an append is retried only when the server
// refused it (429, 503), not once it may have been stored: a server that
// stored it and whose answer was lost would store a repeat again. With
// WithSeq, such a repeat is refused with ErrSeqConflict instead of stored
// twice, so that ErrSeqConflict may then mean that the append was stored.
// A Producer retries its batches and stores each exactly once.
func WithAtLeastOnce() AppendOption {
	return func(c *appendConfig) { c.retry = true }
}

// Append appends data (in the handle's content type) and returns the
// stream's next offset. It is not retried once it may have been stored,
// unless WithAtLeastOnce says so. Empty data is refused.
func (s *Stream) Append(ctx context.Context, data []byte, opts ...AppendOption) (string, error) {
	if len(data) == 0 {
		return "", &Error{Op: "append", Path: s.path, Kind: ErrInvalidArgument, Err: fmt.Errorf("empty data")}
	}
	ct := s.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return s.append(ctx, "append", ct, data, false, opts)
}

// AppendJSON appends v as one message of a JSON stream (sent as [v], so
// that an array is stored as one message) and returns the next offset.
func (s *Stream) AppendJSON(ctx context.Context, v any, opts ...AppendOption) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", &Error{Op: "append", Path: s.path, Kind: ErrInvalidArgument, Err: err}
	}
	ct := s.contentType
	if ct == "" {
		ct = "application/json"
	}
	return s.append(ctx, "append", ct, wrapArray(data), false, opts)
}

// wrapArray returns [data].
func wrapArray(data []byte) []byte {
	out := make([]byte, 0, len(data)+2)
	out = append(out, '[')
	out = append(out, data...)
	return append(out, ']')
}

// Close closes the stream, appending final first when it is not empty, and
// returns the final offset. Closing a closed stream without final data
// succeeds again; with final data it fails with ErrClosed.
func (s *Stream) Close(ctx context.Context, final []byte) (string, error) {
	ct := ""
	if len(final) > 0 {
		ct = s.contentType
		if ct == "" {
			ct = "application/octet-stream"
		}
	}
	return s.append(ctx, "close", ct, final, true, nil)
}

func (s *Stream) append(ctx context.Context, op, ct string, data []byte, close bool, opts []AppendOption) (string, error) {
	var cfg appendConfig
	p := &cfg.params
	if ct != "" {
		p.ContentType = runtime.Some(ct)
	}
	if close {
		p.StreamClosed = runtime.Some(durablestreams.ClosedFlagTrue)
	}
	for _, o := range opts {
		o(&cfg)
	}
	var body io.Reader
	if len(data) > 0 {
		body = bytes.NewBuffer(data) // sent as it is, without a copy
	}
	var callOpts []runtime.Option
	if close && len(data) == 0 || cfg.retry {
		// Closing is idempotent: a repeat answers 204 again. An append is
		// repeated only when the caller said so.
		callOpts = append(callOpts, runtime.WithRetrySafe())
	}
	res, err := s.c.api.Append(ctx, s.path, *p, body, callOpts...)
	if err != nil {
		return "", newError(op, s.path, err)
	}
	next, _ := res.StreamNextOffset.Get()
	return next, nil
}

// Delete deletes the stream.
func (s *Stream) Delete(ctx context.Context) error {
	return newError("delete", s.path, s.c.api.Delete(ctx, s.path))
}

// Metadata describes a stream (Head).
type Metadata struct {
	// ContentType is the stream's content type, parameters included.
	ContentType string
	// NextOffset is the stream's tail.
	NextOffset string
	// Closed reports that the stream is closed.
	Closed bool
	// TTL is the stream's TTL, or 0.
	TTL time.Duration
	// ExpiresAt is the stream's expiry as the server wrote it, or "".
	ExpiresAt string
	// ETag identifies the stream's content and state.
	ETag string
}

// Head returns the stream's metadata.
func (s *Stream) Head(ctx context.Context) (*Metadata, error) {
	var resp *http.Response
	res, err := s.c.api.Head(ctx, s.path, runtime.WithResponseInto(&resp))
	if err != nil {
		return nil, newError("head", s.path, err)
	}
	m := &Metadata{NextOffset: res.StreamNextOffset, Closed: optTrue(res.StreamClosed)}
	m.ContentType = resp.Header.Get("Content-Type")
	if ttl, ok := res.StreamTTL.Get(); ok {
		m.TTL = time.Duration(ttl) * time.Second
	}
	m.ExpiresAt, _ = res.StreamExpiresAt.Get()
	m.ETag, _ = res.ETag.Get()
	return m, nil
}

// IsJSON reports whether a stream of content type ct is a JSON stream
// (application/json, or a type with the +json suffix, parameters aside):
// its appends and reads are JSON arrays of messages.
func IsJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
