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
// # Producer defaults
//
// A Producer seals a batch at 1 MiB (MaxBatchBytes), 10,000 items
// (MaxBatchItems) or 5 ms after its first item (Linger), and keeps up to
// 5 batches in flight (MaxInFlight), starting with one:
//
//   - 1 MiB batches make a request's fixed cost (headers, a round trip)
//     small beside its body: against the reference server, a 100-byte
//     message costs about the same in batches of 1 MB as of 2 or 5 MB,
//     and batches ten times smaller cost noticeably more per message.
//   - Batches in flight together are sent on separate connections, and a
//     server may finish reading a later one first: the server refuses it
//     (a sequence gap) and it is sent again. A server that handles one
//     request at a time, like the reference server, gains nothing from a
//     second batch in flight; one far away (whose round trip is not small
//     beside a batch) gains much. So the window starts at one batch,
//     grows by one each time a batch is acknowledged while others wait,
//     and a gap brings it back to one and caps the window of the client's
//     producers below the size it happened at. A later batch starts only
//     once the previous request is written, which makes gaps rarer.
//   - Acknowledged batch bodies are reused by the client's producers, and
//     a new batch is sized like the last one, so an item is copied once.
//
// Every error is an *Error naming the operation and the stream's path;
// errors.Is tells the case: ErrNotFound, ErrExists, ErrClosed,
// ErrContentType, ErrSeqConflict, ErrSequenceGap, ErrStaleEpoch,
// ErrEpochInUse, ErrGone, ErrTooLarge, ErrBadRequest, ErrInvalidOffset,
// ErrUnauthorized, ErrForbidden, ErrRateLimited, ErrServerError,
// ErrNotSupported, ErrProtocol, ErrNetwork, ErrInvalidArgument.
package durable
