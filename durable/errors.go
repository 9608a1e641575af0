package durable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/allsource-go/allsource/runtime"
)

// Sentinel errors: every error of this package is an *Error whose Kind is
// one of them, and errors.Is(err, ErrX) tells the case.
var (
	// ErrNotFound: no stream at the path (404).
	ErrNotFound = errors.New("stream not found")
	// ErrExists: create found the stream with another configuration
	// (content type, TTL or expiry, closed state) (409).
	ErrExists = errors.New("stream exists with another configuration")
	// ErrClosed: the stream is closed; Error.FinalOffset is its end (409
	// with Stream-Closed).
	ErrClosed = errors.New("stream closed")
	// ErrConflict matches every 409: ErrExists, ErrClosed,
	// ErrContentType, ErrSeqConflict and ErrSequenceGap.
	ErrConflict = errors.New("conflict")
	// ErrContentType: the append's content type is not the stream's (409).
	ErrContentType = errors.New("content type differs from the stream's")
	// ErrSeqConflict: Stream-Seq did not increase (409).
	ErrSeqConflict = errors.New("sequence conflict: Stream-Seq did not increase")
	// ErrSequenceGap: a producer's sequence number skipped ahead (409 with
	// Producer-Expected-Seq; Error.ExpectedSeq and ReceivedSeq).
	ErrSequenceGap = errors.New("producer sequence gap")
	// ErrStaleEpoch: a newer producer epoch exists (403 with
	// Producer-Epoch; Error.ServerEpoch). It also matches ErrForbidden.
	ErrStaleEpoch = errors.New("stale producer epoch")
	// ErrEpochInUse: the server answered a producer's batch as a duplicate
	// although the producer had sent it only once: another writer with the
	// same producer ID stored a batch under that epoch and sequence number
	// first (typically the producer's previous run, restarted without a
	// higher epoch), and the batch was not stored. Error.ServerEpoch is the
	// epoch. With AutoClaim, a producer meeting it on the first batch of
	// its epoch takes the next epoch instead. The producer tells it from
	// how often it wrote the request, which it learns from the request's
	// httptrace hooks: through a transport that does not call them, or a
	// proxy that repeats requests, a duplicate is taken as the batch's
	// own and the collision goes unseen.
	ErrEpochInUse = errors.New("producer epoch in use by another writer")
	// ErrGone: the stream is soft-deleted, or the offset is before the
	// retained data (410).
	ErrGone = errors.New("stream gone")
	// ErrTooLarge: an append's body is larger than the server accepts
	// (413), or a read's response or SSE event is larger than the client
	// takes (WithMaxChunkBytes).
	ErrTooLarge = errors.New("payload too large")
	// ErrBadRequest: the server refused the request as malformed (400).
	ErrBadRequest = errors.New("bad request")
	// ErrInvalidOffset: a read's offset or parameters were refused (400
	// on a read). It also matches ErrBadRequest.
	ErrInvalidOffset = errors.New("invalid offset")
	// ErrUnauthorized: 401.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: 403.
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited: 429 after the retries; Error.RetryAfter.
	ErrRateLimited = errors.New("rate limited")
	// ErrServerError: 5xx after the retries.
	ErrServerError = errors.New("server error")
	// ErrNotSupported: the operation is not supported on this URL (405,
	// 501).
	ErrNotSupported = errors.New("operation not supported")
	// ErrUnexpectedStatus: another status.
	ErrUnexpectedStatus = errors.New("unexpected status")
	// ErrProtocol: a malformed response (invalid JSON on a JSON stream, a
	// malformed SSE control event, a missing header).
	ErrProtocol = errors.New("protocol error")
	// ErrNetwork: a transport failure after the retries.
	ErrNetwork = errors.New("network error")
	// ErrInvalidArgument: bad input refused before any request (an empty
	// or malformed stream path, a bad option).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrProducerClosed: the producer was closed or detached.
	ErrProducerClosed = errors.New("producer closed")
)

// Error is a failed operation on a stream.
type Error struct {
	// Op is the operation: create, append, close, delete, head, read.
	Op string
	// Path is the stream's path.
	Path string
	// Kind is the sentinel of the case (ErrNotFound, ErrClosed, ...).
	Kind error
	// StatusCode is the HTTP status, or 0 when no response came.
	StatusCode int
	// FinalOffset is the final offset of a closed stream (ErrClosed), when
	// the server said.
	FinalOffset string
	// ServerEpoch is the server's producer epoch (ErrStaleEpoch), or the
	// epoch in use (ErrEpochInUse).
	ServerEpoch int64
	// ExpectedSeq and ReceivedSeq are the producer sequence numbers of
	// ErrSequenceGap.
	ExpectedSeq, ReceivedSeq int64
	// RetryAfter is how long the server asked to wait (ErrRateLimited).
	RetryAfter time.Duration
	// Err is the underlying error (*runtime.APIError, a transport error).
	Err error
}

// Error describes the failure with the stream's path.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("durable: ")
	b.WriteString(e.Op)
	if e.Path != "" {
		b.WriteString(" /")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.Error())
	switch {
	case e.Kind == ErrClosed && e.FinalOffset != "":
		b.WriteString(" at offset " + e.FinalOffset)
	case e.Kind == ErrStaleEpoch:
		b.WriteString(" (server epoch " + strconv.FormatInt(e.ServerEpoch, 10) + ")")
	case e.Kind == ErrSequenceGap:
		b.WriteString(" (expected " + strconv.FormatInt(e.ExpectedSeq, 10) + ", received " + strconv.FormatInt(e.ReceivedSeq, 10) + ")")
	}
	if e.Err != nil && e.Err != e.Kind {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// invalid returns the ErrInvalidArgument of op, with a message naming the
// option.
func invalid(op, format string, a ...any) *Error {
	return &Error{Op: op, Kind: ErrInvalidArgument, Err: fmt.Errorf(format, a...)}
}

// Is matches the error's Kind and the broader classes it belongs to.
func (e *Error) Is(target error) bool {
	if target == e.Kind {
		return true
	}
	switch target {
	case ErrConflict:
		return e.Kind == ErrExists || e.Kind == ErrClosed || e.Kind == ErrContentType || e.Kind == ErrSeqConflict || e.Kind == ErrSequenceGap
	case ErrForbidden:
		return e.Kind == ErrStaleEpoch
	case ErrBadRequest:
		return e.Kind == ErrInvalidOffset
	}
	return false
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// newError wraps err, the failure of op on path, into an *Error. A context
// error is returned wrapped but keeps its identity (errors.Is with
// context.Canceled).
func newError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var de *Error
	if errors.As(err, &de) {
		return err
	}
	e := &Error{Op: op, Path: path, Err: err}
	var ae *runtime.APIError
	var pe *runtime.ProtocolError
	switch {
	case errors.As(err, &ae):
		e.StatusCode = ae.StatusCode
		e.Kind = statusKind(op, ae)
		h := ae.Header
		e.FinalOffset = h.Get("Stream-Next-Offset")
		e.ServerEpoch, _ = strconv.ParseInt(h.Get("Producer-Epoch"), 10, 64)
		e.ExpectedSeq, _ = strconv.ParseInt(h.Get("Producer-Expected-Seq"), 10, 64)
		e.ReceivedSeq, _ = strconv.ParseInt(h.Get("Producer-Received-Seq"), 10, 64)
		e.RetryAfter, _ = ae.RetryAfter()
	case errors.As(err, &pe):
		e.Kind = ErrProtocol
		if op == "read" && (errors.Is(err, runtime.ErrResponseTooLarge) || errors.Is(err, runtime.ErrLineTooLong)) {
			e.Kind = ErrTooLarge
		}
		e.StatusCode = pe.StatusCode
	case errors.Is(err, runtime.ErrInvalidPath):
		e.Kind = ErrInvalidArgument
	case errors.Is(err, context.Canceled):
		e.Kind = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.Kind = context.DeadlineExceeded
	default:
		e.Kind = ErrNetwork
	}
	return e
}

// statusKind classifies a non-2xx response of op.
func statusKind(op string, ae *runtime.APIError) error {
	h := ae.Header
	switch s := ae.StatusCode; {
	case s == http.StatusNotFound:
		return ErrNotFound
	case s == http.StatusConflict:
		switch {
		case isTrue(h.Get("Stream-Closed")):
			return ErrClosed
		case h.Get("Producer-Expected-Seq") != "":
			return ErrSequenceGap
		case op == "create":
			return ErrExists
		case strings.Contains(strings.ToLower(string(ae.Body)), "content-type"), strings.Contains(strings.ToLower(string(ae.Body)), "content type"):
			// The body is the only hint the protocol gives.
			return ErrContentType
		}
		return ErrSeqConflict
	case s == http.StatusForbidden:
		if h.Get("Producer-Epoch") != "" {
			return ErrStaleEpoch
		}
		return ErrForbidden
	case s == http.StatusGone:
		return ErrGone
	case s == http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case s == http.StatusBadRequest:
		if op == "read" {
			return ErrInvalidOffset
		}
		return ErrBadRequest
	case s == http.StatusUnauthorized:
		return ErrUnauthorized
	case s == http.StatusTooManyRequests:
		return ErrRateLimited
	case s == http.StatusMethodNotAllowed, s == http.StatusNotImplemented:
		return ErrNotSupported
	case s >= 500:
		return ErrServerError
	}
	return ErrUnexpectedStatus
}

// isTrue reports whether a Stream-Closed or Stream-Up-To-Date value says
// true: only "true", in any letter case, counts.
func isTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// optTrue is isTrue of an optional header.
func optTrue(o runtime.Opt[string]) bool {
	v, ok := o.Get()
	return ok && isTrue(v)
}
