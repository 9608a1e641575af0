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

	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/runtime"
)

// maxFrameBytes bounds one stream frame (a live batch of large events).
const maxFrameBytes = 64 << 20

// Start registers the worker's durable consumer with Core, loads its last
// snapshot and starts the worker. Canceling ctx later abandons the worker
// at once, without a final checkpoint (like a crash; nothing is lost, a
// restart replays from the last checkpoint); Handle.Stop stops it cleanly.
func Start[S any](ctx context.Context, c *core.Client, cfg Config[S]) (*Handle[S], error) {
	if c == nil {
		return nil, errors.New("projection: nil Core client")
	}
	return start(ctx, &coreClient{c: c}, cfg)
}

// coreClient implements coreAPI with the generated Core client.
type coreClient struct {
	c *core.Client
}

func (cc *coreClient) register(ctx context.Context, consumer string, filters []string) (int64, error) {
	req := core.RegisterConsumerRequest{ConsumerID: consumer, EventTypeFilters: runtime.Some(append([]string{}, filters...))}
	res, err := cc.c.RegisterConsumer(ctx, req)
	if err != nil {
		return 0, err
	}
	cursor, _ := res.CursorPosition.Get()
	return cursor, nil
}

func (cc *coreClient) pending(ctx context.Context, consumer string, limit int) ([]pendingEvent, error) {
	// The generated response type decodes every event in full; only ids,
	// types, entities, versions and positions are needed here, so the body
	// is decoded into a slim struct instead.
	var raw []byte
	req := &runtime.Request{
		OperationID: "pollConsumerEvents",
		Method:      http.MethodGet,
		Path:        "/api/v1/consumers/" + url.PathEscape(consumer) + "/events",
		Query:       url.Values{"limit": {strconv.Itoa(limit)}},
		RetrySafe:   true,
	}
	if err := cc.c.Runtime().Do(ctx, req, &raw); err != nil {
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
	_, err := cc.c.AckConsumer(ctx, consumer, core.AckRequest{Position: pos})
	return err
}

func (cc *coreClient) putStates(ctx context.Context, projection string, entries []EntityState) error {
	states := make([]core.ProjectionStateEntry, len(entries))
	for i, e := range entries {
		b, err := json.Marshal(e.State)
		if err != nil {
			return fmt.Errorf("encode state of %q: %w", e.EntityID, err)
		}
		states[i] = core.ProjectionStateEntry{EntityID: e.EntityID, State: b}
	}
	_, err := cc.c.BulkSaveProjectionStates(ctx, projection, core.BulkSaveProjectionStatesRequest{States: states})
	return err
}

func (cc *coreClient) getState(ctx context.Context, projection, entityID string) (json.RawMessage, bool, error) {
	res, err := cc.c.GetProjectionEntityState(ctx, projection, entityID)
	if err != nil {
		return nil, false, err
	}
	if !res.Found || len(res.State) == 0 || string(res.State) == "null" {
		return nil, false, nil
	}
	return res.State, true, nil
}

// connect opens the stream. The upgrade request goes through the runtime
// client, so it carries the client's credentials, headers and retry policy:
// a middleware performs the WebSocket handshake in place of the plain
// request.
func (cc *coreClient) connect(ctx context.Context, consumer string, filters []string) (stream, error) {
	var conn *websocket.Conn
	dial := func(next runtime.RoundTripFunc) runtime.RoundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			u := *r.URL
			switch u.Scheme {
			case "http":
				u.Scheme = "ws"
			case "https":
				u.Scheme = "wss"
			}
			h := r.Header.Clone()
			h.Del("Accept")
			// The handshake is bounded by the attempt's context; the
			// connection outlives it.
			hctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
			defer cancel()
			stop := context.AfterFunc(r.Context(), cancel)
			defer stop()
			c, resp, err := websocket.Dial(hctx, u.String(), &websocket.DialOptions{
				HTTPHeader:      h,
				CompressionMode: websocket.CompressionDisabled,
			})
			if err != nil {
				if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
					if resp.Body == nil {
						resp.Body = http.NoBody
					}
					return resp, nil
				}
				return nil, err
			}
			conn = c
			return &http.Response{
				Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{}, Body: http.NoBody, Request: r,
			}, nil
		}
	}
	req := &runtime.Request{
		OperationID: "streamEvents",
		Method:      http.MethodGet,
		Path:        "/api/v1/events/stream",
		Query:       url.Values{"consumer_id": {consumer}},
		RetrySafe:   true,
	}
	if err := cc.c.Runtime().Do(ctx, req, nil, runtime.WithMiddleware(dial)); err != nil {
		if conn != nil {
			conn.CloseNow()
		}
		return nil, err
	}
	if conn == nil {
		return nil, errors.New("streamEvents: no connection")
	}
	conn.SetReadLimit(maxFrameBytes)
	sub, err := json.Marshal(struct {
		Type    string   `json:"type"`
		Filters []string `json:"filters"`
	}{"subscribe", filters})
	if err != nil {
		conn.CloseNow()
		return nil, err
	}
	if len(filters) > 0 {
		if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
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
	in  interner
}

// next reads the next frame. The connection is not bound to ctx (binding
// costs a timer per frame); close ends a pending read instead.
func (s *wsStream) next(context.Context) (frame, error) {
	for {
		typ, r, err := s.c.Reader(context.Background())
		if err != nil {
			return frame{}, err
		}
		s.buf.Reset()
		if _, err := s.buf.ReadFrom(r); err != nil {
			return frame{}, err
		}
		if typ != websocket.MessageText {
			continue
		}
		// Decoded events alias the frame, so each frame gets its own copy.
		data := bytes.Clone(s.buf.Bytes())
		if s.buf.Cap() > 1<<20 {
			s.buf = bytes.Buffer{}
		}
		f, err := decodeFrameWith(data, &s.in)
		if err != nil {
			return frame{}, err
		}
		if f.kind == 0 {
			continue // a frame type from a newer server
		}
		return f, nil
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
	c          *core.Client
	projection string
}

// NewCoreStore returns a CoreStore using projection in Core's projection
// store; an empty projection means DefaultSnapshotProjection.
func NewCoreStore(c *core.Client, projection string) *CoreStore {
	if projection == "" {
		projection = DefaultSnapshotProjection
	}
	return &CoreStore{c: c, projection: projection}
}

// Load reads the snapshot of name from Core.
func (s *CoreStore) Load(ctx context.Context, name string) (Snapshot, bool, error) {
	res, err := s.c.GetProjectionEntityState(ctx, s.projection, name)
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: load snapshot from Core: %w", err)
	}
	if !res.Found || len(res.State) == 0 || string(res.State) == "null" {
		return Snapshot{}, false, nil
	}
	snap, err := decodeSnapshot(res.State, name)
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
	if _, err := s.c.PutProjectionEntityState(ctx, s.projection, name, core.SaveProjectionStateRequest{State: b}); err != nil {
		return fmt.Errorf("projection: save snapshot to Core: %w", err)
	}
	return nil
}
