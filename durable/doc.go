// Package durable is a client of the Durable Streams protocol: append-only
// streams addressed by URL, read from an offset with live modes, written by
// plain appends or by an idempotent producer that stores every item
// exactly once.
//
// It adds what is specific to the protocol to the client generated from
// spec/durable-streams.yaml (gen/durablestreams) and the runtime under it
// (retries with jittered backoff and Retry-After, typed API errors):
// read loops that resume where they stopped, SSE batches, JSON messages,
// the producer's batching and sequencing, and typed errors.
//
//	c, err := durable.New("http://localhost:4437")
//	s := c.Stream("orders/eu").WithContentType("application/json")
//	_, err = s.Create(ctx, durable.CreateOptions{})
//	_, err = s.AppendJSON(ctx, map[string]any{"id": 1})
//	for msg, err := range s.Messages(ctx, durable.ReadOptions{Live: durable.LiveSSE}) {
//		...
//	}
//
// Every error is an *Error naming the operation and the stream's path;
// errors.Is tells the case: ErrNotFound, ErrExists, ErrClosed,
// ErrContentType, ErrSeqConflict, ErrSequenceGap, ErrStaleEpoch, ErrGone,
// ErrTooLarge, ErrBadRequest, ErrInvalidOffset, ErrUnauthorized,
// ErrForbidden, ErrRateLimited, ErrServerError, ErrNotSupported,
// ErrProtocol, ErrNetwork, ErrInvalidArgument.
package durable
