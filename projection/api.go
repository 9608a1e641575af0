package projection

import (
	"context"
	"encoding/json"
)

// coreAPI is what the worker needs from Core. coreClient implements it
// over the SDK.
type coreAPI interface {
	// register creates the durable consumer or replaces its filters and
	// returns its cursor (0 when it never acknowledged).
	register(ctx context.Context, consumer string, filters []string) (cursor int64, err error)
	// pending returns up to limit events after the consumer's cursor, in
	// position order, without moving the cursor.
	pending(ctx context.Context, consumer string, limit int) ([]pendingEvent, error)
	// ack moves the consumer's cursor to pos.
	ack(ctx context.Context, consumer string, pos int64) error
	// connect opens the consumer's event stream and subscribes with
	// filters.
	connect(ctx context.Context, consumer string, filters []string) (stream, error)
	// putStates saves entries in Core's projection store.
	putStates(ctx context.Context, projection string, entries []EntityState) error
	// getState reads one entry of Core's projection store.
	getState(ctx context.Context, projection, entityID string) (json.RawMessage, bool, error)
}

// frameKind tells the stream's frames apart.
type frameKind int

const (
	frameReplay frameKind = iota + 1
	frameReplayComplete
	frameLive
	frameLagged
	// frameCovered is made by a partition group, not sent by Core: every
	// event of the partition at or below position was replayed to it (the
	// others between belong to other partitions).
	frameCovered
)

// frame is one server frame of the event stream.
type frame struct {
	kind     frameKind
	position int64   // replay, covered
	event    Event   // replay, and a single live event
	batch    []Event // a live batch; nil for a single event
	replayed int64   // replay_complete
	missed   int64   // lagged
}

// stream is an open event stream.
type stream interface {
	// next returns the next text frame, undecoded; the worker owns it.
	next(ctx context.Context) ([]byte, error)
	// close closes the connection.
	close() error
}
