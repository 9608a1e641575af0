package generator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/allsource-go/allsource/gen/common"
	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/gen/query"
	"github.com/allsource-go/allsource/generator"
	"github.com/allsource-go/allsource/runtime"
)

// TestGeneratedUpToDate regenerates gen/common, gen/core and gen/query from
// spec/ and fails when the checked-in files differ, or when two runs differ.
func TestGeneratedUpToDate(t *testing.T) {
	for _, pkg := range []string{"common", "core", "query"} {
		cfg, err := generator.LoadConfig(filepath.Join("..", "gen", pkg, "gen.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := generator.Generate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range res.Warnings {
			t.Errorf("%s: unexpected warning %s", pkg, w)
		}
		diff, err := generator.Diff(cfg.Output, res.Files)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range diff {
			t.Errorf("gen/%s/%s is stale: run go generate ./gen/...", pkg, name)
		}
		again, err := generator.Generate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.Files {
			if res.Files[i].Name != again.Files[i].Name || !bytes.Equal(res.Files[i].Content, again.Files[i].Content) {
				t.Errorf("gen/%s/%s: two runs differ", pkg, res.Files[i].Name)
			}
		}
	}
}

// The shared Event is one type: what the stream, consumers and both query
// operations return can be folded by one reducer.
var (
	_ common.Event                                                                                                       = core.Event{}
	_ common.Event                                                                                                       = core.ReplayFrame{}.Event
	_ []common.Event                                                                                                     = common.QueryEventsResponse{}.Events
	_ func(*core.Client, context.Context, core.QueryEventsParams, ...runtime.Option) (*core.QueryEventsResult, error)    = (*core.Client).QueryEvents
	_ *common.QueryEventsResponse                                                                                        = core.QueryEventsResult{}.Body
	_ func(*query.Client, context.Context, query.QueryEventsParams, ...runtime.Option) (*query.QueryEventsResult, error) = (*query.Client).QueryEvents
	_ *common.QueryEventsResponse                                                                                        = query.QueryEventsResult{}.Body
)

const eventJSON = `{"id":"5f0c1a9e-6b7e-4d8f-9a51-0c2b6f3e7d11","event_type":"user.created","entity_id":"user-1","tenant_id":"default","payload":{"name":"Ada"},"timestamp":"2026-01-02T03:04:05.123456789Z","metadata":null,"version":1}`

func TestCoreStreamFrames(t *testing.T) {
	frame := func(s string) core.StreamFrame {
		t.Helper()
		f, err := core.DecodeStreamFrame([]byte(s))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return f
	}
	switch f := frame(`{"type":"replay","position":42,"event":` + eventJSON + `}`).(type) {
	case core.StreamReplay:
		if f.Position != 42 || f.Event.EntityID != "user-1" || f.Event.Version != 1 {
			t.Errorf("replay: %+v", f)
		}
	default:
		t.Errorf("replay decoded as %T", f)
	}
	if f, ok := frame(`{"type":"replay_complete","replayed":17}`).(core.StreamReplayComplete); !ok || f.Replayed != 17 {
		t.Errorf("replay_complete: %#v", f)
	}
	if f, ok := frame(`{"type":"lagged","missed":3}`).(core.StreamLagged); !ok || f.Missed != 3 {
		t.Errorf("lagged: %#v", f)
	}
	if f, ok := frame(eventJSON).(core.StreamEvent); !ok || f.EventType != "user.created" || string(f.Metadata) != "null" {
		t.Errorf("live event: %#v", f)
	}
	if f, ok := frame(`[` + eventJSON + `,` + eventJSON + `]`).(core.StreamEventBatch); !ok || len(f.EventBatch) != 2 {
		t.Errorf("batch: %#v", f)
	}
	if f, ok := frame(`{"type":"subscribe","filters":["a.*"]}`).(core.StreamUnknown); !ok || f.Type != "subscribe" {
		t.Errorf("echoed subscribe frame: %#v", f)
	}
	var fe *core.StreamFrameError
	if _, err := core.DecodeStreamFrame([]byte(`{"type":"replay","position":"x"}`)); !errors.As(err, &fe) || fe.Frame != "replay" {
		t.Errorf("bad replay frame: %v", err)
	}
	b, err := core.EncodeStreamClientFrame(core.SubscribeFrame{Type: core.SubscribeFrameTypeSubscribe, Filters: []string{"asset.*"}})
	if err != nil || string(b) != `{"type":"subscribe","filters":["asset.*"]}` {
		t.Errorf("subscribe frame %s %v", b, err)
	}
}

func TestEventRoundTrip(t *testing.T) {
	var e common.Event
	in := eventJSON[:len(eventJSON)-1] + `,"sequence":9}`
	if err := json.Unmarshal([]byte(in), &e); err != nil {
		t.Fatal(err)
	}
	if string(e.AdditionalProperties["sequence"]) != "9" {
		t.Errorf("unknown member lost: %v", e.AdditionalProperties)
	}
	type user struct{ Name string }
	var u user
	if err := json.Unmarshal(e.Payload, &u); err != nil || u.Name != "Ada" {
		t.Errorf("payload %+v", u)
	}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	_ = json.Unmarshal(out, &a)
	_ = json.Unmarshal([]byte(in), &b)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("round trip\n got %s\nwant %s", ja, jb)
	}
}

func TestCoreIngestConflict(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/events" || r.Header.Get("Authorization") != "Bearer k" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body["event_type"] != "user.created" {
			t.Errorf("body %v %v", body, err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"error":"version_conflict","expected_version":1,"current_version":2}`))
	}))
	defer srv.Close()
	c, err := core.NewClient(srv.URL, core.WithBearerAuth("k"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.IngestEvent(context.Background(), core.IngestEventRequest{EventType: "user.created", EntityID: "user-1", Payload: json.RawMessage(`{}`)})
	var apiErr *runtime.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict {
		t.Fatalf("error %v", err)
	}
	conflict, ok := apiErr.Detail.(*core.IngestConflict)
	if !ok || conflict.Kind != core.IngestConflictKindVersionConflict {
		t.Fatalf("detail %#v", apiErr.Detail)
	}
}

func TestCoreStreamFramesInPlace(t *testing.T) {
	var v core.StreamFrameValue
	var in runtime.Interner
	r := runtime.JSONReader{Strings: in.String, Alias: true}
	replay := []byte(`{"type":"replay","position":42,"event":` + eventJSON + `}`)
	for _, s := range []string{string(replay), `{"type":"lagged","missed":3}`, `[` + eventJSON + `]`, eventJSON, `{"type":"new"}`} {
		want, err := core.DecodeStreamFrame([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if err := core.DecodeStreamFrameInto(&r, []byte(s), &v); err != nil || !reflect.DeepEqual(v.Frame(), want) {
			t.Fatalf("%s: %#v, %v; want %#v", s, v.Frame(), err, want)
		}
		if err := core.DecodeStreamFrameInto(nil, []byte(s), &v); err != nil || !reflect.DeepEqual(v.Frame(), want) {
			t.Fatalf("nil reader: %s: %#v, %v; want %#v", s, v.Frame(), err, want)
		}
	}
	if err := core.DecodeStreamFrameInto(&r, replay, &v); err != nil || v.Kind != core.StreamFrameKindReplay {
		t.Fatal(v.Kind, err)
	}
	// With Alias the payload is the frame's own bytes.
	i := bytes.Index(replay, []byte(`"Ada"`))
	replay[i+1] = 'E'
	if string(v.Replay.Event.Payload) != `{"name":"Eda"}` {
		t.Errorf("payload %s does not alias the frame", v.Replay.Event.Payload)
	}
	var fe *core.StreamFrameError
	if err := core.DecodeStreamFrameInto(&r, []byte(`{"type":"replay","position":"x"}`), &v); !errors.As(err, &fe) || fe.Frame != "replay" || v.Kind != 0 {
		t.Errorf("bad replay frame: %v, kind %d", err, v.Kind)
	}
}

func BenchmarkDecodeStreamFrame(b *testing.B) {
	frames := map[string][]byte{
		"replay": []byte(`{"type":"replay","position":42,"event":` + eventJSON + `}`),
		"live":   []byte(eventJSON),
		"batch":  []byte(`[` + eventJSON + `,` + eventJSON + `,` + eventJSON + `,` + eventJSON + `]`),
	}
	for _, name := range []string{"replay", "live", "batch"} {
		data := frames[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := core.DecodeStreamFrame(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/in-place", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var in runtime.Interner
			r := runtime.JSONReader{Strings: in.String, Alias: true}
			var v core.StreamFrameValue
			for b.Loop() {
				if err := core.DecodeStreamFrameInto(&r, data, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzDecodeStreamFrame feeds arbitrary frames to the generated decoder: it
// never panics, returns either a frame or a *StreamFrameError, and keeps in
// an event's AdditionalProperties exactly the members Event does not
// describe.
func FuzzDecodeStreamFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"replay","position":42,"event":` + eventJSON + `}`,
		`{"type":"replay_complete","replayed":17}`,
		`{"type":"lagged","missed":3}`,
		eventJSON,
		`[` + eventJSON + `]`,
		`{"type":"new","x":[1,{"y":"}"}]}`,
		`{"t\u0079pe":"lagged","missed":1}`,
		`{"id":"a","extra":{"a":"\"}"},"z":[]}`,
		``, `{`, `[`, `"x"`, `{"type":}`,
	} {
		f.Add([]byte(s))
	}
	known := map[string]bool{"id": true, "event_type": true, "entity_id": true, "tenant_id": true, "payload": true, "timestamp": true, "metadata": true, "version": true}
	// One value and one reader for every input, as a stream reader keeps
	// them: decoding in place must give what DecodeStreamFrame gives,
	// whatever earlier frames left in the value.
	var in runtime.Interner
	r := runtime.JSONReader{Strings: in.String, Alias: true}
	var v core.StreamFrameValue
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := core.DecodeStreamFrame(data)
		ierr := core.DecodeStreamFrameInto(&r, data, &v)
		if (err != nil) != (ierr != nil) || err == nil && !reflect.DeepEqual(v.Frame(), fr) || err != nil && v.Kind != 0 {
			t.Fatalf("%q: DecodeStreamFrame %#v, %v; DecodeStreamFrameInto %#v, %v", data, fr, err, v.Frame(), ierr)
		}
		if err != nil {
			var fe *core.StreamFrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a *StreamFrameError", err, err)
			}
			return
		}
		switch fr := fr.(type) {
		case core.StreamUnknown:
			if !json.Valid(fr.Raw) {
				t.Fatalf("unknown frame with invalid JSON %q", fr.Raw)
			}
		case core.StreamEvent:
			var all map[string]json.RawMessage
			if err := json.Unmarshal(data, &all); err != nil {
				t.Fatalf("decoded an event from invalid JSON %q", data)
			}
			want := 0
			for k := range all {
				if !known[k] {
					want++
					if _, ok := fr.AdditionalProperties[k]; !ok {
						t.Fatalf("member %q lost from %q", k, data)
					}
				}
			}
			if len(fr.AdditionalProperties) != want {
				t.Fatalf("additional properties %v, want %d members, from %q", fr.AdditionalProperties, want, data)
			}
		}
	})
}
