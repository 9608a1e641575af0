package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
)

// Framing is how the items of a streamed response are delimited.
type Framing int

const (
	// JSONLines is one JSON value per line (application/jsonl,
	// application/x-ndjson); blank lines are skipped.
	JSONLines Framing = iota
	// JSONSeq is RFC 7464's JSON text sequences (application/json-seq):
	// each value follows an RS byte (0x1E).
	JSONSeq
)

// RecordReader reads the records of a JSON lines or JSON text sequence
// stream incrementally, reusing one buffer.
type RecordReader struct {
	lines *lineReader
}

// NewRecordReader returns a reader of the records of r, each at most max
// bytes (DefaultMaxResponseBytes when max <= 0).
func NewRecordReader(r io.Reader, f Framing, max int) *RecordReader {
	lr := newLineReader(r, max)
	lr.onlyLF = true
	if f == JSONSeq {
		lr.sep = 0x1e
	}
	return &RecordReader{lines: lr}
}

// Next returns the next non-blank record, valid until the next call, or
// io.EOF at the end of the stream.
func (r *RecordReader) Next() ([]byte, error) {
	for {
		line, err := r.lines.next()
		if err != nil {
			return nil, err
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			return line, nil
		}
	}
}

// DecodeJSONInto decodes data into v, in one pass when v is a generated
// type.
func DecodeJSONInto(data []byte, v any) error {
	if d, ok := v.(JSONDecoder); ok {
		return DecodeJSONBytes(data, d)
	}
	return json.Unmarshal(data, v)
}

// StreamError returns an iterator that yields err once: the stream of an
// operation whose request could not be built.
func StreamError[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}

// StreamRecords sends req with Open and returns an iterator over the items
// of its JSON lines or JSON text sequence response, each decoded into a T
// as it arrives. A failed call or a malformed item ends the iteration with
// the error (a *ProtocolError for an item); the body is closed when the
// loop ends, breaks or ctx ends.
func StreamRecords[T any](ctx context.Context, c *Client, req *Request, f Framing, opts ...Option) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		resp, err := c.Open(ctx, req, opts...)
		if err != nil {
			yield(zero, err)
			return
		}
		defer resp.Body.Close()
		rr := NewRecordReader(resp.Body, f, int(c.maxBody(opts)))
		for n := 0; ; n++ {
			rec, err := rr.Next()
			if err != nil {
				if err != io.EOF {
					yield(zero, streamErr(ctx, req, resp, err))
				}
				return
			}
			var v T
			if err := DecodeJSONInto(rec, &v); err != nil {
				yield(zero, itemError(req, resp, fmt.Sprintf("decoding item %d", n), err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// StreamSSE sends req with Open and returns an iterator over the events of
// its text/event-stream response, each turned into a T by decode (which
// must not keep ev.Data). An error of decode is a *ProtocolError that ends
// the iteration; the body is closed when the loop ends, breaks or ctx ends.
func StreamSSE[T any](ctx context.Context, c *Client, req *Request, decode func(ev SSEEvent) (T, error), opts ...Option) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		resp, err := c.Open(ctx, req, opts...)
		if err != nil {
			yield(zero, err)
			return
		}
		defer resp.Body.Close()
		sr := NewSSEReader(resp.Body, int(c.maxBody(opts)))
		for {
			ev, err := sr.Next()
			if err != nil {
				if err != io.EOF {
					yield(zero, streamErr(ctx, req, resp, err))
				}
				return
			}
			v, err := decode(ev)
			if err != nil {
				yield(zero, itemError(req, resp, fmt.Sprintf("decoding event %q (id %q)", ev.Type, ev.ID), err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// maxBody returns the largest record or event a stream read with opts
// takes: WithMaxResponseBytes of the call, else of the client.
func (c *Client) maxBody(opts []Option) int64 {
	cfg := c.cfg
	for _, o := range opts {
		o(&cfg)
	}
	return cfg.maxBodyBytes
}

// streamErr is the error that ends reading a stream: the context's when it
// ended, a *ProtocolError otherwise.
func streamErr(ctx context.Context, req *Request, resp *http.Response, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", req.OperationID, ctx.Err())
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", req.OperationID, err)
	}
	return itemError(req, resp, "reading the stream", err)
}

func itemError(req *Request, resp *http.Response, reason string, err error) error {
	u := *resp.Request.URL
	u.User, u.RawQuery = nil, ""
	return &ProtocolError{OperationID: req.OperationID, Method: req.Method, URL: u.String(), StatusCode: resp.StatusCode, Reason: reason, Err: err}
}
