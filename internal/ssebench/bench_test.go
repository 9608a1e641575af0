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
