package projection

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/allsource-go/allsource/gen/common"
	"github.com/allsource-go/allsource/gen/core"
)

const evJSON = `{"id":"11111111-1111-4111-8111-111111111111","event_type":"user.created","entity_id":"user-1","tenant_id":"default","payload":{"name":"Ada","tags":["a",{"b":null}],"n":-1.5e3},"timestamp":"2026-01-01T00:00:00.123456789Z","metadata":null,"version":1}`

var frameCorpus = []string{
	`{"type":"replay","position":42,"event":` + evJSON + `}`,
	`{"event":` + evJSON + `,"position":7,"type":"replay"}`,
	`{"type":"replay_complete","replayed":17}`,
	`{"type":"lagged","missed":3}`,
	evJSON,
	`[` + evJSON + `,` + strings.Replace(evJSON, `"version":1`, `"version":2`, 1) + `]`,
	`[]`,
	`{"type":"subscribe","filters":["a.*"]}`,
	` { "type" : "replay" , "position" : 1 , "event" : {"id":"e\u00e9\"","event_type":"x","entity_id":"a\\b","tenant_id":"t","payload":"s","timestamp":"2026-01-01T00:00:00Z","metadata":{"k":[1,2]},"version":3,"extra":true} } `,
	`{"type":"replay","position":1}`,
	`{"type":"replay","position":"1","event":` + evJSON + `}`,
	`{"type":"replay_complete"}`,
	`{"id":"x"}`,
	`{"type":5}`,
	`[{"id":"x"}]`,
	`{"type":"lagged","missed":1.5}`,
	`{"type":"replay","position":1,"event":` + evJSON + `,}`,
	`{"type":"replay","position":1,"event":` + strings.Replace(evJSON, `"payload":{`, `"payload":{,`, 1) + `}`,
	strings.Replace(evJSON, `"version":1`, `"version":01`, 1),
	strings.Replace(evJSON, `2026-01-01T00:00:00.123456789Z`, `yesterday`, 1),
	`{"type":"replay","position":1,"event":` + evJSON + `} x`,
	`"string"`,
	``,
	`{"type":null,` + evJSON[1:],
}

func TestDecodeFrameMatchesGenerated(t *testing.T) {
	for _, in := range frameCorpus {
		checkAgainstGenerated(t, []byte(in))
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, in := range frameCorpus {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// encoding/json matches member names case-insensitively and
		// replaces invalid UTF-8; Core never relies on either, and the fast
		// decoder does neither, so inputs that could spell upper-case or
		// non-ASCII names are not compared.
		for _, c := range data {
			if c >= 0x80 || c >= 'A' && c <= 'Z' {
				t.Skip()
			}
		}
		if bytes.Contains(data, []byte(`\u`)) {
			t.Skip() // may spell an upper-case or non-ASCII name
		}
		checkAgainstGenerated(t, data)
	})
}

// checkAgainstGenerated requires that whatever decodeFrame accepts, the
// generated decoder accepts too, with the same content.
func checkAgainstGenerated(t *testing.T, data []byte) {
	t.Helper()
	got, err := decodeFrame(data)
	if err != nil {
		return // stricter than the generated decoder is fine
	}
	gen, gerr := core.DecodeStreamFrame(bytes.Clone(data))
	if gerr != nil {
		t.Fatalf("%s: decodeFrame accepted what the generated decoder refuses (%v): %+v", data, gerr, got)
	}
	want := fromGenerated(gen)
	if !reflect.DeepEqual(normalizeFrame(got), normalizeFrame(want)) {
		t.Fatalf("%s:\ndecodeFrame %+v\ngenerated   %+v", data, got, want)
	}
}

func fromGenerated(f core.StreamFrame) frame {
	conv := func(e common.Event) Event {
		e.AdditionalProperties = nil // the worker's decoder keeps only the documented members
		return Event{Event: e}
	}
	switch v := f.(type) {
	case core.StreamReplay:
		return frame{kind: frameReplay, position: v.Position, event: conv(v.Event)}
	case core.StreamReplayComplete:
		return frame{kind: frameReplayComplete, replayed: v.Replayed}
	case core.StreamLagged:
		return frame{kind: frameLagged, missed: v.Missed}
	case core.StreamEvent:
		return frame{kind: frameLive, event: conv(v.Event)}
	case core.StreamEventBatch:
		evs := make([]Event, len(v.EventBatch))
		for i, e := range v.EventBatch {
			evs[i] = conv(e)
		}
		return frame{kind: frameLive, batch: evs}
	}
	return frame{}
}

func normalizeFrame(f frame) frame {
	norm := func(e *Event) {
		e.Payload = compact(e.Payload)
		e.Metadata = compact(e.Metadata)
		if string(e.Metadata) == "null" {
			e.Metadata = nil
		}
		e.Timestamp = e.Timestamp.UTC()
	}
	norm(&f.event)
	for i := range f.batch {
		norm(&f.batch[i])
	}
	return f
}

func compact(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

func TestDecodeFrameShapes(t *testing.T) {
	f, err := decodeFrame([]byte(frameCorpus[0]))
	if err != nil || f.kind != frameReplay || f.position != 42 || f.batch != nil {
		t.Fatalf("replay: %+v, %v", f, err)
	}
	e := f.event
	if e.ID != "11111111-1111-4111-8111-111111111111" || e.EventType != "user.created" || e.EntityID != "user-1" ||
		e.TenantID != "default" || e.Version != 1 || string(e.Metadata) != "null" || e.Timestamp.Nanosecond() != 123456789 ||
		string(e.Payload) != `{"name":"Ada","tags":["a",{"b":null}],"n":-1.5e3}` {
		t.Fatalf("replay event: %+v", e)
	}
	f, err = decodeFrame([]byte(frameCorpus[8]))
	if err != nil || f.event.ID != "eé\"" || f.event.EntityID != `a\b` || string(f.event.Metadata) != `{"k":[1,2]}` {
		t.Fatalf("escapes: %+v, %v", f, err)
	}
	if f, err := decodeFrame([]byte(frameCorpus[5])); err != nil || f.kind != frameLive || len(f.batch) != 2 || f.batch[1].Version != 2 {
		t.Fatalf("batch: %+v, %v", f, err)
	}
	if f, err := decodeFrame([]byte(frameCorpus[7])); err != nil || f.kind != 0 {
		t.Fatalf("unknown type: %+v, %v", f, err)
	}
	if f, err := decodeFrame([]byte(`{"type":null,` + evJSON[1:])); err != nil || f.kind != 0 {
		t.Fatalf("null type: %+v, %v", f, err)
	}
	for _, bad := range frameCorpus[9:] {
		if bad == `{"type":null,`+evJSON[1:] {
			continue
		}
		if _, err := decodeFrame([]byte(bad)); err == nil {
			t.Errorf("decodeFrame(%s) succeeded", bad)
		}
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	data := []byte(frameCorpus[0])
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := decodeFrame(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := core.DecodeStreamFrame(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
