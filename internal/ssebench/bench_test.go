package ssebench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	goruntime "runtime"
	"strings"
	"testing"

	pubsub "github.com/allsource-go/allsource/examples/pubsub/client"
	"github.com/allsource-go/allsource/runtime"
	"github.com/openai/openai-go/packages/ssestream"
)

const events = 10000

// body is a stream of typed events of the PubSub example API.
func body() []byte {
	var b bytes.Buffer
	for i := range events {
		fmt.Fprintf(&b, "event: event\nid: %d\ndata: {\"id\":\"%d\",\"topic\":\"news\",\"data\":{\"title\":\"item %d\",\"tags\":[\"a\",\"b\"]},\"deliver_at\":\"2026-12-01T10:00:00Z\"}\n\n", i, i, i)
	}
	return b.Bytes()
}

// response serves data as a text/event-stream response without a network.
type response []byte

func (r response) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(bytes.NewReader(r)), Request: req}, nil
}

func mallocs() uint64 {
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.Mallocs
}

// perEvent reports events/s and allocations per event.
func perEvent(b *testing.B, start uint64) {
	n := float64(b.N * events)
	b.ReportMetric(float64(mallocs()-start)/n, "allocs/event")
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSSE decodes one stream of 10,000 typed events with the generated
// PubSub client (runtime.SSEReader), a plain bufio.Scanner reader and
// openai-go's ssestream, each decoding the data into pubsub.Event.
func BenchmarkSSE(b *testing.B) {
	data := body()
	b.Run("generated", func(b *testing.B) {
		c, err := pubsub.NewClient("http://pubsub.test", runtime.WithHTTPClient(&http.Client{Transport: response(data)}))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		start := mallocs()
		for b.Loop() {
			n := 0
			for ev, err := range c.Subscribe(context.Background(), "news", pubsub.SubscribeParams{}) {
				if err != nil || ev.Event == nil {
					b.Fatal(ev, err)
				}
				n++
			}
			if n != events {
				b.Fatalf("%d events", n)
			}
		}
		perEvent(b, start)
	})
	b.Run("plain-bufio", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		start := mallocs()
		for b.Loop() {
			n := 0
			sc := bufio.NewScanner(bytes.NewReader(data))
			var payload []string
			for sc.Scan() {
				line := sc.Text()
				if line == "" {
					if len(payload) > 0 {
						var ev pubsub.Event
						if err := json.Unmarshal([]byte(strings.Join(payload, "\n")), &ev); err != nil {
							b.Fatal(err)
						}
						n++
					}
					payload = payload[:0]
					continue
				}
				field, value, _ := strings.Cut(line, ":")
				if field == "data" {
					payload = append(payload, strings.TrimPrefix(value, " "))
				}
			}
			if n != events {
				b.Fatalf("%d events", n)
			}
		}
		perEvent(b, start)
	})
	b.Run("openai-ssestream", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		start := mallocs()
		for b.Loop() {
			resp, _ := response(data).RoundTrip(&http.Request{})
			d := ssestream.NewDecoder(resp)
			n := 0
			for d.Next() {
				var ev pubsub.Event
				if err := json.Unmarshal(d.Event().Data, &ev); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if d.Err() != nil || n != events {
				b.Fatalf("%d events, %v", n, d.Err())
			}
		}
		perEvent(b, start)
	})
}

// repeat serves body again and again as one endless-looking response of
// total bytes.
type repeat struct {
	body        []byte
	off, remain int
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.remain <= 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.remain)], r.body[r.off:])
	r.off = (r.off + n) % len(r.body)
	r.remain -= n
	return n, nil
}

type repeatResponse struct {
	body  []byte
	total int
}

func (r repeatResponse) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(&repeat{body: r.body, remain: r.total}), Request: req}, nil
}

// BenchmarkGeneratedSSEFlatMemory streams 1 GiB of typed events through the
// generated PubSub client and reports the peak heap sampled while it runs.
func BenchmarkGeneratedSSEFlatMemory(b *testing.B) {
	const total = 1 << 30
	data := body()
	c, err := pubsub.NewClient("http://pubsub.test", runtime.WithHTTPClient(&http.Client{Transport: repeatResponse{body: data, total: total}}))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		goruntime.GC()
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		before, peak := ms.HeapAlloc, uint64(0)
		n := 0
		for _, err := range c.Subscribe(context.Background(), "news", pubsub.SubscribeParams{}) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n%100000 == 0 {
				goruntime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
		b.Logf("1 GiB, %d events through the generated client: heap before %d KiB, peak while streaming %d KiB", n, before>>10, peak>>10)
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	}
}
