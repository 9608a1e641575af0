package projection

import (
	"bytes"
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/runtime"
)

const evJSON = `{"id":"11111111-1111-4111-8111-111111111111","event_type":"user.created","entity_id":"user-1","tenant_id":"default","payload":{"name":"Ada","tags":["a",{"b":null}],"n":-1.5e3},"timestamp":"2026-01-01T00:00:00.123456789Z","metadata":null,"version":1}`

// frameCorpus holds frames the worker decodes (up to malformedFrom) and
// malformed ones it must refuse (from malformedFrom on).
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
	`{"type":null,` + evJSON[1:],
	// Malformed from here on.
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
	`{"type":"unknown","x":[1,}`,
	`"string"`,
	``,
}

const malformedFrom = 10

// frameDecoder decodes frames as decodeBatches does.
type frameDecoder struct {
	in runtime.Interner
	r  runtime.JSONReader
	v  core.StreamFrameValue
}

func newFrameDecoder() *frameDecoder {
	d := &frameDecoder{}
	d.r = runtime.JSONReader{Strings: d.in.String, Alias: true}
	return d
}

func (d *frameDecoder) decode(data []byte) (frame, error) {
	var f frame
	if err := core.DecodeStreamFrameInto(&d.r, data, &d.v); err != nil {
		return frame{}, err
	}
	setFrame(&f, &d.v)
	return f, nil
}

func TestDecodeFrameCorpus(t *testing.T) {
	d := newFrameDecoder()
	for i, in := range frameCorpus {
		_, err := d.decode([]byte(in))
		if malformed := i >= malformedFrom; (err != nil) != malformed {
			t.Errorf("%s: error %v, malformed %v", in, err, malformed)
		}
	}
}

func TestDecodeFrameShapes(t *testing.T) {
	d := newFrameDecoder()
	f, err := d.decode([]byte(frameCorpus[0]))
	if err != nil || f.kind != frameReplay || f.position != 42 || f.batch != nil {
		t.Fatalf("replay: %+v, %v", f, err)
	}
	e := f.event
	if e.ID != "11111111-1111-4111-8111-111111111111" || e.EventType != "user.created" || e.EntityID != "user-1" ||
		e.TenantID != "default" || e.Version != 1 || string(e.Metadata) != "null" || e.Timestamp.Nanosecond() != 123456789 ||
		string(e.Payload) != `{"name":"Ada","tags":["a",{"b":null}],"n":-1.5e3}` || e.Position != 0 {
		t.Fatalf("replay event: %+v", e)
	}
	if f, err := d.decode([]byte(frameCorpus[1])); err != nil || f.kind != frameReplay || f.position != 7 || f.event.ID != e.ID {
		t.Fatalf("replay with its type last: %+v, %v", f, err)
	}
	f, err = d.decode([]byte(frameCorpus[8]))
	if err != nil || f.event.ID != "eé\"" || f.event.EntityID != `a\b` || string(f.event.Metadata) != `{"k":[1,2]}` ||
		string(f.event.AdditionalProperties["extra"]) != "true" {
		t.Fatalf("escapes: %+v, %v", f, err)
	}
	if f, err := d.decode([]byte(frameCorpus[2])); err != nil || f.kind != frameReplayComplete || f.replayed != 17 {
		t.Fatalf("replay_complete: %+v, %v", f, err)
	}
	if f, err := d.decode([]byte(frameCorpus[3])); err != nil || f.kind != frameLagged || f.missed != 3 {
		t.Fatalf("lagged: %+v, %v", f, err)
	}
	if f, err := d.decode([]byte(evJSON)); err != nil || f.kind != frameLive || f.batch != nil || f.event.Version != 1 {
		t.Fatalf("live: %+v, %v", f, err)
	}
	if f, err := d.decode([]byte(frameCorpus[5])); err != nil || f.kind != frameLive || len(f.batch) != 2 || f.batch[1].Version != 2 {
		t.Fatalf("batch: %+v, %v", f, err)
	}
	if f, err := d.decode([]byte(`[]`)); err != nil || f.kind != frameLive || f.batch == nil || len(f.batch) != 0 {
		t.Fatalf("empty batch: %+v, %v", f, err)
	}
	if f, err := d.decode([]byte(frameCorpus[7])); err != nil || f.kind != 0 {
		t.Fatalf("unknown type: %+v, %v", f, err)
	}
	if f, err := d.decode([]byte(frameCorpus[9])); err != nil || f.kind != 0 {
		t.Fatalf("null type: %+v, %v", f, err)
	}
}

// TestDecodeFrameKeepsNothingOfEarlierFrames decodes frames one after the
// other, as the worker does with one value, and checks each frame against
// one decoded on its own.
func TestDecodeFrameKeepsNothingOfEarlierFrames(t *testing.T) {
	d := newFrameDecoder()
	for range 2 {
		for _, in := range frameCorpus[:malformedFrom] {
			got, err := d.decode([]byte(in))
			want, werr := newFrameDecoder().decode([]byte(in))
			if err != nil || werr != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:\n got %+v %v\nwant %+v %v", in, got, err, want, werr)
			}
		}
	}
}

// FuzzDecodeFrame checks, on arbitrary frames, that the worker's decoding
// never panics and gives what DecodeStreamFrame gives.
func FuzzDecodeFrame(f *testing.F) {
	for _, in := range frameCorpus {
		f.Add([]byte(in))
	}
	d := newFrameDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := d.decode(bytes.Clone(data))
		gen, gerr := core.DecodeStreamFrame(data)
		if (err != nil) != (gerr != nil) {
			t.Fatalf("%q: worker %v, DecodeStreamFrame %v", data, err, gerr)
		}
		if err != nil {
			return
		}
		var want core.StreamFrameValue
		if err := core.DecodeStreamFrameInto(nil, data, &want); err != nil {
			t.Fatal(err)
		}
		var wf frame
		setFrame(&wf, &want)
		if !reflect.DeepEqual(got, wf) || reflect.TypeOf(want.Frame()) != reflect.TypeOf(gen) {
			t.Fatalf("%q:\nworker %+v\nwant   %+v (%T)", data, got, wf, gen)
		}
	})
}

// BenchmarkDecodeFrame decodes a replay frame with the generated decoder,
// as the worker does (in place, repeated strings interned, payloads left in
// the frame) and in its plain form.
func BenchmarkDecodeFrame(b *testing.B) {
	data := []byte(frameCorpus[0])
	bench := func(name string, decode func() error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			cpu := processCPU()
			for b.Loop() {
				if err := decode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
	bench("generated", func() error {
		_, err := core.DecodeStreamFrame(data)
		return err
	})
	d := newFrameDecoder()
	bench("generated/in-place", func() error {
		_, err := d.decode(data)
		return err
	})
}

// TestParallelDecodingKeepsOrder decodes a recorded replay with several
// decoders and checks that the frames come out in the stream's order, each
// once, ending with the stream's error; and that a malformed frame ends the
// stream after the frames before it.
func TestParallelDecodingKeepsOrder(t *testing.T) {
	const n = 5000
	rec := recordReplay(n, 7)
	for _, decoders := range []int{1, 2, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		st := &memoryStream{rec: rec, closed: make(chan struct{})}
		decoded, free, wait := startDecodingN(ctx, st, decoders)
		want := int64(1)
		complete := false
		for !complete {
			b := <-decoded
			for _, f := range b.frames {
				switch {
				case f.kind == frameReplay && f.position == want && f.event.EntityID == "asset-"+strconv.FormatInt((want-1)%7, 10):
					want++
				case f.kind == frameReplayComplete && want == n+1:
					complete = true
				default:
					t.Fatalf("%d decoders: frame %+v, want the replay of position %d", decoders, f, want)
				}
			}
			if b.err != nil || b.malformed != nil {
				t.Fatalf("%d decoders: stream ended at position %d: %v %v", decoders, want, b.err, b.malformed)
			}
			free <- b.frames[:0]
		}
		_ = st.close()
		if b := <-decoded; b.err == nil || len(b.frames) != 0 {
			t.Fatalf("%d decoders: after replay_complete %d frames, error %v; want the stream's error", decoders, len(b.frames), b.err)
		}
		cancel()
		wait()
	}

	// A malformed frame in the middle: the frames before it, then the
	// malformed frame's error, whatever decoder it fell to.
	bad := recordReplay(3000, 7)
	cut := bad.ends[1999]
	data := append([]byte{}, bad.data[:cut]...)
	data = append(data, `{"type":"replay","position":"x"}`...)
	ends := append(append([]int{}, bad.ends[:2000]...), len(data))
	data = append(data, `{"type":"replay_complete","replayed":2001}`...)
	ends = append(ends, len(data))
	bad = &recordedStream{data: data, ends: ends}
	for _, decoders := range []int{1, 2, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		st := &memoryStream{rec: bad, closed: make(chan struct{})}
		decoded, _, wait := startDecodingN(ctx, st, decoders)
		got := 0
		for {
			b := <-decoded
			got += len(b.frames)
			if b.malformed != nil {
				break
			}
			if b.err != nil {
				t.Fatalf("%d decoders: stream error %v, want a malformed frame", decoders, b.err)
			}
		}
		if got != 2000 {
			t.Fatalf("%d decoders: %d frames before the malformed one, want 2000", decoders, got)
		}
		cancel()
		_ = st.close()
		wait()
	}
}
