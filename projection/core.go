package projection

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/runtime"
)

// maxFrameBytes bounds one stream frame (a live batch of large events).
const maxFrameBytes = 64 << 20

// Start registers the worker's durable consumer with Core, loads its last
// snapshot and starts the worker. ctx governs the start only (registration
// and loading the snapshot): once Start has returned, the worker runs until
// Handle.Stop or Handle.Drain ends it with a final checkpoint, or a fatal
// error stops it. With signal.NotifyContext, wait for the context and then
// call Stop:
//
//	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
//	defer cancel()
//	h, err := projection.Start(ctx, c, cfg)
//	...
//	<-ctx.Done()
//	stopCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
//	defer done()
//	err = h.Stop(stopCtx)
func Start[S any](ctx context.Context, c allsource.CoreClient, cfg Config[S]) (*Handle[S], error) {
	if c.API() == nil {
		return nil, errors.New("projection: zero CoreClient (use allsource.NewCoreClient)")
	}
	return start(ctx, &coreClient{c: c}, cfg)
}

// coreClient implements coreAPI with the SDK's Core client.
type coreClient struct {
	c allsource.CoreClient
}

func (cc *coreClient) register(ctx context.Context, consumer string, filters []string) (int64, error) {
	res, err := cc.c.RegisterConsumer(ctx, consumer, append([]string{}, filters...))
	if err != nil {
		return 0, err
	}
	cursor, _ := res.CursorPosition.Get()
	return cursor, nil
}

func (cc *coreClient) pending(ctx context.Context, consumer string, limit int) ([]pendingEvent, error) {
	// The generated response type decodes every event in full, payload and
	// unknown members included; a live checkpoint reads up to thousands of
	// them and needs only ids, types, entities, versions and positions, so
	// the body is decoded into a slim struct instead.
	var raw []byte
	req := &runtime.Request{
		OperationID: "pollConsumerEvents",
		Method:      http.MethodGet,
		Path:        "/api/v1/consumers/" + url.PathEscape(consumer) + "/events",
		Query:       url.Values{"limit": {strconv.Itoa(limit)}},
		RetrySafe:   true,
	}
	if err := cc.c.API().Runtime().Do(ctx, req, &raw); err != nil {
		return nil, err
	}
	var body struct {
		Events []struct {
			Position  int64  `json:"position"`
			ID        string `json:"id"`
			EventType string `json:"event_type"`
			TenantID  string `json:"tenant_id"`
			EntityID  string `json:"entity_id"`
			Version   int64  `json:"version"`
		} `json:"events"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, fmt.Errorf("pollConsumerEvents: decode response: %w", err)
	}
	out := make([]pendingEvent, len(body.Events))
	for i, e := range body.Events {
		out[i] = pendingEvent{Position: e.Position, ID: e.ID, Type: e.EventType, TenantID: e.TenantID, EntityID: e.EntityID, Version: e.Version}
	}
	return out, nil
}

func (cc *coreClient) ack(ctx context.Context, consumer string, pos int64) error {
	return cc.c.AckConsumer(ctx, consumer, pos)
}

func (cc *coreClient) putStates(ctx context.Context, projection string, entries []EntityState) error {
	states := make([]allsource.EntityState, len(entries))
	for i, e := range entries {
		states[i] = allsource.EntityState{EntityID: e.EntityID, State: e.State}
	}
	_, err := cc.c.PutProjectionStates(ctx, projection, states)
	return err
}

func (cc *coreClient) getState(ctx context.Context, projection, entityID string) (json.RawMessage, bool, error) {
	state, found, err := cc.c.ProjectionState(ctx, projection, entityID)
	if err != nil || !found || len(state) == 0 || string(state) == "null" {
		return nil, false, err
	}
	return state, true, nil
}

// connect opens the consumer's stream through the SDK's Stream: its
// dialer, credentials and connection pool. The worker reads the frames
// undecoded (NextRaw) and decodes them with its own decoder: catch-up
// throughput depends on the cost per frame, and the generated decoder takes
// over twice as long (BenchmarkDecodeFrame). Reconnection is the worker's,
// which must roll back or re-register between connections, so the Stream
// does not reconnect.
func (cc *coreClient) connect(ctx context.Context, consumer string, filters []string) (stream, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := cc.c.Subscribe(dctx, allsource.StreamOptions{ConsumerID: consumer, Filters: filters, ReadLimit: maxFrameBytes})
	if err != nil {
		return nil, fmt.Errorf("streamEvents: %w", err)
	}
	return sdkStream{s}, nil
}

// sdkStream is the worker's view of an allsource.Stream.
type sdkStream struct{ s *allsource.Stream }

// next reads without binding the read to a context that can end (which
// lets the Stream read in the caller's goroutine); the worker's close ends
// a pending read instead.
func (s sdkStream) next(context.Context) ([]byte, error) { return s.s.NextRaw(context.Background()) }

func (s sdkStream) close() error { return s.s.Close() }

// DefaultSnapshotProjection is the projection name under which CoreStore
// keeps snapshots in Core's projection store.
const DefaultSnapshotProjection = "allsource.projection.snapshots"

// DefaultChunkBytes is the size CoreStore cuts records into: encoded in
// base64 and wrapped in a request, a chunk stays well under the 2 MiB Core
// accepts in a JSON body.
const DefaultChunkBytes = 1 << 20

// CoreStore is a SnapshotStore that keeps snapshots in Core's projection
// store under the projection Projection: the base snapshot of a consumer
// and each delta as a record, a record as chunks of at most ChunkBytes
// (Core refuses request bodies over 2 MiB) written first, then a head entry
// naming them, so a reader sees the old record or the new one, never a
// mix. Core keeps that store in memory: a snapshot there is as durable as
// the Core process (a Core restart loses it, and the worker then refuses
// to start with ErrSnapshotBehind rather than miss events).
type CoreStore struct {
	c          allsource.CoreClient
	projection string
	// ChunkBytes is the size records are cut into; default
	// DefaultChunkBytes. Set it before the first Save.
	ChunkBytes int

	chainOnce sync.Once
	chain     *chain
}

// NewCoreStore returns a CoreStore using projection in Core's projection
// store; an empty projection means DefaultSnapshotProjection.
func NewCoreStore(c allsource.CoreClient, projection string) *CoreStore {
	if projection == "" {
		projection = DefaultSnapshotProjection
	}
	return &CoreStore{c: c, projection: projection}
}

func (s *CoreStore) getChain() *chain {
	s.chainOnce.Do(func() { s.chain = newChain(coreBlobs{s}) })
	return s.chain
}

// Load reads the snapshot of name from Core: its base and the deltas saved
// after it.
func (s *CoreStore) Load(ctx context.Context, name string) (Snapshot, bool, error) {
	snap, found, err := s.getChain().load(ctx, name)
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: Core store: %w", err)
	}
	return snap, found, nil
}

// Save stores the snapshot of name in Core; Core has it when Save returns.
func (s *CoreStore) Save(ctx context.Context, name string, snap Snapshot) error {
	if err := s.getChain().save(ctx, name, snap); err != nil {
		return fmt.Errorf("projection: Core store: %w", err)
	}
	return nil
}

// Close waits for the background compactions in progress. The store stays
// usable.
func (s *CoreStore) Close() error {
	s.getChain().wait()
	return nil
}

// coreBlobs keeps a chain's records in Core's projection store. Record seq
// of name is the entry "name" (the base) or "name~d<seq>": a head naming
// the chunks, entries "<head>~<gen>~<i>" holding the record's bytes in
// base64.
type coreBlobs struct{ s *CoreStore }

// coreHead is the head entry of a record.
type coreHead struct {
	Gen    int64 `json:"gen"`
	Chunks int   `json:"chunks"`
	Bytes  int   `json:"bytes"`
}

func (b coreBlobs) key(name string, seq int64) string {
	if seq == 0 {
		return name
	}
	return name + "~d" + strconv.FormatInt(seq, 10)
}

func chunkKey(head string, gen int64, i int) string {
	return head + "~" + strconv.FormatInt(gen, 10) + "~" + strconv.Itoa(i)
}

func (b coreBlobs) head(ctx context.Context, key string) (coreHead, bool, error) {
	raw, found, err := b.s.c.ProjectionState(ctx, b.s.projection, key)
	if err != nil || !found || len(raw) == 0 || string(raw) == "null" {
		return coreHead{}, false, err
	}
	var h coreHead
	if err := json.Unmarshal(raw, &h); err != nil {
		return coreHead{}, false, fmt.Errorf("decode head of %q: %w", key, err)
	}
	if h.Chunks < 0 || h.Bytes < 0 {
		return coreHead{}, false, fmt.Errorf("head of %q is malformed", key)
	}
	return h, true, nil
}

func (b coreBlobs) put(ctx context.Context, name string, seq int64, data []byte) error {
	key := b.key(name, seq)
	old, hadOld, err := b.head(ctx, key)
	if err != nil {
		return err
	}
	size := b.s.ChunkBytes
	if size <= 0 {
		size = DefaultChunkBytes
	}
	h := coreHead{Gen: time.Now().UnixNano(), Bytes: len(data)}
	if hadOld && h.Gen <= old.Gen {
		h.Gen = old.Gen + 1
	}
	for off := 0; off < len(data) || off == 0; off += size {
		end := min(off+size, len(data))
		chunk := base64.StdEncoding.EncodeToString(data[off:end])
		if err := b.s.c.PutProjectionState(ctx, b.s.projection, chunkKey(key, h.Gen, h.Chunks), chunk); err != nil {
			return fmt.Errorf("write chunk %d of %q: %w", h.Chunks, key, err)
		}
		h.Chunks++
		if end == len(data) {
			break
		}
	}
	if err := b.s.c.PutProjectionState(ctx, b.s.projection, key, h); err != nil {
		return fmt.Errorf("write head of %q: %w", key, err)
	}
	if hadOld {
		b.clearChunks(ctx, key, old)
	}
	return nil
}

// clearChunks overwrites the chunks of an old record with null (Core's
// projection store has no delete); failures only leave garbage.
func (b coreBlobs) clearChunks(ctx context.Context, key string, h coreHead) {
	for i := range h.Chunks {
		_ = b.s.c.PutProjectionState(ctx, b.s.projection, chunkKey(key, h.Gen, i), nil)
	}
}

func (b coreBlobs) get(ctx context.Context, name string, seq int64) ([]byte, bool, error) {
	key := b.key(name, seq)
	h, found, err := b.head(ctx, key)
	if err != nil || !found {
		return nil, false, err
	}
	data := make([]byte, 0, h.Bytes)
	for i := range h.Chunks {
		id := chunkKey(key, h.Gen, i)
		raw, found, err := b.s.c.ProjectionState(ctx, b.s.projection, id)
		if err != nil {
			return nil, false, fmt.Errorf("read chunk %d of %q: %w", i, key, err)
		}
		var text string
		if !found {
			return nil, false, fmt.Errorf("chunk %d of %q is missing", i, key)
		}
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, false, fmt.Errorf("chunk %d of %q: %w", i, key, err)
		}
		part, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, false, fmt.Errorf("chunk %d of %q: %w", i, key, err)
		}
		data = append(data, part...)
	}
	if len(data) != h.Bytes {
		return nil, false, fmt.Errorf("record %q has %d bytes, its head says %d", key, len(data), h.Bytes)
	}
	return data, true, nil
}

func (b coreBlobs) remove(ctx context.Context, name string, seq int64) error {
	key := b.key(name, seq)
	h, found, err := b.head(ctx, key)
	if err != nil || !found {
		return err
	}
	if err := b.s.c.PutProjectionState(ctx, b.s.projection, key, nil); err != nil {
		return err
	}
	b.clearChunks(ctx, key, h)
	return nil
}
