package projection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/runtime"
)

// maxFrameBytes bounds one stream frame (a live batch of large events).
const maxFrameBytes = 64 << 20

// Start registers the worker's durable consumer with Core, loads its last
// snapshot and starts the worker. Canceling ctx later abandons the worker
// at once, without a final checkpoint (like a crash; nothing is lost, a
// restart replays from the last checkpoint); Handle.Stop stops it cleanly.
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

// connect opens the stream with the client's credentials, headers and
// connection pool. The worker reads frames with its own decoder rather than
// the SDK's Stream: catch-up throughput depends on the cost per frame, and
// the generated decoder takes over twice as long (BenchmarkDecodeFrame).
func (cc *coreClient) connect(ctx context.Context, consumer string, filters []string) (stream, error) {
	rt := cc.c.API().Runtime()
	u := rt.BaseURL()
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	u.Path += "/api/v1/events/stream"
	u.RawPath = ""
	u.RawQuery = url.Values{"consumer_id": {consumer}}.Encode()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("streamEvents: %w", err)
	}
	if err := rt.Authorize(ctx, hreq); err != nil {
		return nil, fmt.Errorf("streamEvents: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, hreq.URL.String(), &websocket.DialOptions{
		HTTPClient:      rt.HTTPClient(),
		HTTPHeader:      hreq.Header,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("streamEvents: GET %s: handshake answered %s", u.Redacted(), resp.Status)
		}
		if hreq.URL.RawQuery != u.RawQuery {
			// The credential is a query parameter, so the dial error
			// would repeat it: keep the error's text out.
			return nil, fmt.Errorf("streamEvents: GET %s: connection failed", u.Redacted())
		}
		return nil, fmt.Errorf("streamEvents: %w", err)
	}
	conn.SetReadLimit(maxFrameBytes)
	if len(filters) > 0 {
		sub, err := json.Marshal(struct {
			Type    string   `json:"type"`
			Filters []string `json:"filters"`
		}{"subscribe", filters})
		if err == nil {
			err = conn.Write(ctx, websocket.MessageText, sub)
		}
		if err != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("streamEvents: subscribe: %w", err)
		}
	}
	return &wsStream{c: conn}, nil
}

// wsStream reads frames from a WebSocket connection.
type wsStream struct {
	c   *websocket.Conn
	buf bytes.Buffer
}

// next reads the next text frame. The connection is not bound to ctx
// (binding costs a timer per frame); close ends a pending read instead.
func (s *wsStream) next(context.Context) ([]byte, error) {
	for {
		typ, r, err := s.c.Reader(context.Background())
		if err != nil {
			return nil, err
		}
		s.buf.Reset()
		if _, err := s.buf.ReadFrom(r); err != nil {
			return nil, err
		}
		if typ != websocket.MessageText {
			continue
		}
		// Decoded events alias the frame, so each frame gets its own copy.
		data := bytes.Clone(s.buf.Bytes())
		if s.buf.Cap() > 1<<20 {
			s.buf = bytes.Buffer{}
		}
		return data, nil
	}
}

func (s *wsStream) close() error {
	return s.c.CloseNow()
}

// DefaultSnapshotProjection is the projection name under which CoreStore
// keeps snapshots in Core's projection store.
const DefaultSnapshotProjection = "allsource.projection.snapshots"

// CoreStore is a SnapshotStore that keeps each snapshot in Core's
// projection store, as the state of the entity named after the consumer in
// the projection Projection. Core keeps that store in memory: a snapshot
// there is as durable as the Core process (a Core restart loses it, and the
// worker then refuses to start with ErrSnapshotBehind rather than miss
// events). Each save sends the whole snapshot in one request, so CoreStore
// suits states of up to a few megabytes; use FileStore (or your own store)
// for larger ones.
type CoreStore struct {
	c          allsource.CoreClient
	projection string
}

// NewCoreStore returns a CoreStore using projection in Core's projection
// store; an empty projection means DefaultSnapshotProjection.
func NewCoreStore(c allsource.CoreClient, projection string) *CoreStore {
	if projection == "" {
		projection = DefaultSnapshotProjection
	}
	return &CoreStore{c: c, projection: projection}
}

// Load reads the snapshot of name from Core.
func (s *CoreStore) Load(ctx context.Context, name string) (Snapshot, bool, error) {
	state, found, err := s.c.ProjectionState(ctx, s.projection, name)
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: load snapshot from Core: %w", err)
	}
	if !found || len(state) == 0 || string(state) == "null" {
		return Snapshot{}, false, nil
	}
	snap, err := decodeSnapshot(state, name)
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: load snapshot from Core: %w", err)
	}
	return snap, true, nil
}

// Save stores the snapshot of name in Core; Core has it when Save returns.
func (s *CoreStore) Save(ctx context.Context, name string, snap Snapshot) error {
	b, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("projection: encode snapshot: %w", err)
	}
	if err := s.c.PutProjectionState(ctx, s.projection, name, json.RawMessage(b)); err != nil {
		return fmt.Errorf("projection: save snapshot to Core: %w", err)
	}
	return nil
}
