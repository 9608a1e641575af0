package coretest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// smallBatch encodes a batch of n small events starting at index from.
func smallBatch(from, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"events":[`)
	for i := from; i < from+n; i++ {
		if i > from {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"event_type":"order.placed","entity_id":"order-%d","payload":{"n":%d}}`, i%1000, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkBatchIngest measures batch ingest over HTTP, 1000 small events
// per request; events/s is the figure to report.
func BenchmarkBatchIngest(b *testing.B) {
	s := NewServer(WithAPIKeys(testKey))
	defer s.Close()
	body := smallBatch(0, 1000)
	client := &http.Client{}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/events/batch", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemoryPerEvent stores b.N small events (1000 entities, one
// type, payload {"n":i}) through the ingest path, in batches of 1000, and
// reports the heap they hold per event. Run it with -benchtime=1000000x
// for the figure at one million events.
func BenchmarkMemoryPerEvent(b *testing.B) {
	s := NewServer(WithAPIKeys(testKey))
	defer s.Close()
	base := heapInUse()
	b.ResetTimer()
	batch := make([]SeedEvent, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, SeedEvent{Type: "order.placed", EntityID: "order-" + itoa(i%1000), Payload: []byte(`{"n":` + itoa(i) + `}`)})
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := s.Seed(batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.StopTimer()
	batch = nil
	used := max(int64(heapInUse())-int64(base), 0)
	b.ReportMetric(float64(used)/float64(b.N), "bytes/event")
	b.ReportMetric(float64(s.EventCount()), "events")
}

func itoa(n int) string { return string(appendInt(nil, int64(n))) }

// seedSmall stores total small events (1000 entities, one type, payload
// {"n":i}) in batches of 1000.
func seedSmall(b *testing.B, s *Server, total int) {
	b.Helper()
	evs := make([]SeedEvent, 1000)
	for from := 0; from < total; from += len(evs) {
		for j := range evs {
			n := from + j
			evs[j] = SeedEvent{Type: "order.placed", EntityID: "order-" + itoa(n%1000), Payload: []byte(`{"n":` + itoa(n) + `}`)}
		}
		if _, err := s.Seed(evs...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplay measures consumer replay over the WebSocket: each
// iteration opens a stream for a new consumer and reads every stored event
// until replay_complete; events/s is the figure to report.
func BenchmarkReplay(b *testing.B) {
	const stored = 100_000
	s := NewServer(WithAPIKeys(testKey))
	defer s.Close()
	seedSmall(b, s, stored)
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v1/events/stream?consumer_id="
	hdr := http.Header{"Authorization": {"Bearer " + testKey}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		c, _, err := websocket.Dial(ctx, u+"bench-"+itoa(i), &websocket.DialOptions{HTTPHeader: hdr})
		if err != nil {
			b.Fatal(err)
		}
		c.SetReadLimit(1 << 20)
		frames := 0
		stop := context.AfterFunc(ctx, func() { c.CloseNow() })
		for {
			// Read without a deadline per frame; the AfterFunc above
			// bounds the whole replay.
			_, data, err := c.Read(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if bytes.HasPrefix(data, []byte(`{"type":"replay_complete"`)) {
				break
			}
			frames++
		}
		if frames != stored {
			b.Fatalf("replayed %d, want %d", frames, stored)
		}
		stop()
		c.CloseNow()
		cancel()
	}
	b.ReportMetric(float64(b.N*stored)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkLive measures live delivery over the WebSocket: events are
// stored in batches of 1000 while one client without a consumer reads
// them as bare event frames; events/s is the figure to report.
func BenchmarkLive(b *testing.B) {
	s := NewServer(WithAPIKeys(testKey), WithStreamBuffer(1<<20))
	defer s.Close()
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v1/events/stream"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + testKey}}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	stop := context.AfterFunc(ctx, func() { c.CloseNow() })
	defer stop()
	for s.StreamClients() == 0 {
		time.Sleep(time.Millisecond)
	}
	total := b.N * 1000
	errc := make(chan error, 1)
	go func() {
		evs := make([]SeedEvent, 1000)
		for i := 0; i < b.N; i++ {
			for j := range evs {
				n := i*1000 + j
				evs[j] = SeedEvent{Type: "order.placed", EntityID: "order-" + itoa(n%1000), Payload: []byte(`{"n":` + itoa(n) + `}`)}
			}
			if _, err := s.Seed(evs...); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	b.ResetTimer()
	for got := 0; got < total; got++ {
		_, data, err := c.Read(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if bytes.HasPrefix(data, []byte(`{"type":"lagged"`)) {
			b.Fatalf("lagged: %s", data)
		}
	}
	b.StopTimer()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBatchBodyChecks sets the repeated-member check a batch body goes
// through (reference §14 #6) beside the decode it follows, on the same
// 1000-event body: the "check" figure over the "decode" one is its cost.
func BenchmarkBatchBodyChecks(b *testing.B) {
	body := smallBatch(0, 1000)
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var req struct {
				Events *[]ingestRequest `json:"events"`
			}
			if err := json.Unmarshal(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if dup := duplicateMember(body, batchMembers); dup != "" {
				b.Fatal(dup)
			}
		}
	})
}
