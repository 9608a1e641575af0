package projection

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
	"github.com/allsource-go/allsource/gen/common"
	"github.com/allsource-go/allsource/gen/core"
)

// counts is the simple reducer's state: events per type.
type counts map[string]int64

func countReducer(s counts, ev Event) (counts, error) {
	s[ev.EventType]++
	return s, nil
}

// benchServer is an embedded server holding n events, shared by the
// benchmarks of one run (writing a million events takes a while).
type benchServer struct {
	srv *coretest.Server
	c   *core.Client         // writes events
	sdk allsource.CoreClient // runs workers
	n   int
}

var (
	benchOnce sync.Once
	benchSrv  *benchServer
	benchErr  error
)

const catchUpEvents = 1_000_000

// benchConsumers numbers the consumers of the benchmarks, which share one
// server across -count runs.
var benchConsumers atomic.Int64

func sharedBenchServer(b *testing.B) *benchServer {
	b.Helper()
	benchOnce.Do(func() {
		srv := coretest.NewServer(coretest.WithAPIKeys(testKey))
		c, err := core.NewClient(srv.URL, core.WithBearerAuth(testKey))
		if err != nil {
			benchErr = err
			return
		}
		if err := ingestBulk(c, catchUpEvents, 1000); err != nil {
			benchErr = err
			return
		}
		sdk, err := allsource.NewCoreClient(srv.URL, testKey)
		if err != nil {
			benchErr = err
			return
		}
		benchSrv = &benchServer{srv: srv, c: c, sdk: sdk, n: catchUpEvents}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSrv
}

// ingestBulk writes n events over entities in batches of 1000, in parallel.
func ingestBulk(c *core.Client, n, entities int) error {
	const batch = 1000
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	work := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range work {
				req := core.IngestEventsRequest{Events: make([]core.IngestEventRequest, 0, batch)}
				for i := start; i < min(start+batch, n); i++ {
					req.Events = append(req.Events, core.IngestEventRequest{
						EventType: common.EventType([]string{"asset.registered", "asset.updated", "exchange_mapping.set"}[i%3]),
						EntityID:  common.EntityID(fmt.Sprintf("asset-%d", i%entities)),
						Payload:   json.RawMessage(fmt.Sprintf(`{"symbol":"SYM%d","price":%d.25,"venue":"x"}`, i%entities, i)),
					})
				}
				if _, err := c.IngestEvents(context.Background(), req); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	for start := 0; start < n; start += batch {
		work <- start
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("ingest: %w", err)
	default:
		return nil
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkCatchUp measures catch-up throughput: a new consumer replays a
// million events from the embedded server into a simple reducer, with a
// checkpoint bound (file snapshot with fsync, then ack) of the default
// 100,000, 10,000, or 1,000 events.
func BenchmarkCatchUp(b *testing.B) {
	for _, every := range []int{DefaultCheckpointEvents, 10_000, 1000} {
		b.Run(fmt.Sprintf("checkpoint=%d", every), func(b *testing.B) {
			bs := sharedBenchServer(b)
			dir := b.TempDir()
			i := 0
			var cpu time.Duration
			for b.Loop() {
				i++
				cfg := Config[counts]{
					Name: fmt.Sprintf("catchup-%d-%d", every, benchConsumers.Add(1)), Reducer: countReducer,
					Initial: func() counts { return counts{} },
					Store:   NewFileStore(dir), CheckpointEvents: every, Logger: quiet,
				}
				cpu0 := processCPU()
				h, err := Start(context.Background(), bs.sdk, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if err := h.WaitCaughtUp(context.Background()); err != nil {
					b.Fatal(err)
				}
				cpu += processCPU() - cpu0
				if st := h.Stats(); st.Applied != int64(bs.n) {
					b.Fatalf("applied %d, want %d", st.Applied, bs.n)
				}
				b.StopTimer()
				if err := h.Stop(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(bs.n)*float64(i)/b.Elapsed().Seconds(), "events/s")
			// CPU used by server and worker together (one process), per
			// event: on a busy machine the rate above understates what
			// two idle cores do, and this tells how far.
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(bs.n*i), "cpu-ns/event")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkLiveLatency measures the time from the start of an ingest call
// to the reducer receiving the event, while the worker is live: one event
// at a time on loopback.
func BenchmarkLiveLatency(b *testing.B) {
	srv := coretest.NewServer(coretest.WithAPIKeys(testKey))
	defer srv.Close()
	c, err := core.NewClient(srv.URL, core.WithBearerAuth(testKey))
	if err != nil {
		b.Fatal(err)
	}
	sdk, err := allsource.NewCoreClient(srv.URL, testKey)
	if err != nil {
		b.Fatal(err)
	}
	seen := make(chan time.Time, 1)
	cfg := Config[counts]{
		Name: "latency", Initial: func() counts { return counts{} }, Store: NewFileStore(b.TempDir()),
		Reducer: func(s counts, ev Event) (counts, error) {
			seen <- time.Now()
			return countReducer(s, ev)
		},
		Logger: quiet,
	}
	h, err := Start(context.Background(), sdk, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Stop(context.Background())
	if err := h.WaitCaughtUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	req := core.IngestEventRequest{EventType: "asset.updated", EntityID: "asset-1", Payload: json.RawMessage(`{"price":1}`)}
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := c.IngestEvent(context.Background(), req); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-seen).Sub(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRestartCost measures what a restart costs after a long live
// period: the worker folds 50,000 live events with a checkpoint every 1,000,
// is killed (abandoned: no final checkpoint) and restarted, and
// the events the restart replays are counted.
func BenchmarkRestartCost(b *testing.B) {
	const live, every = 50_000, 1000
	var replayed int64
	for b.Loop() {
		b.StopTimer()
		srv := coretest.NewServer(coretest.WithAPIKeys(testKey))
		c, err := core.NewClient(srv.URL, core.WithBearerAuth(testKey))
		if err != nil {
			b.Fatal(err)
		}
		sdk, err := allsource.NewCoreClient(srv.URL, testKey)
		if err != nil {
			b.Fatal(err)
		}
		cfg := Config[counts]{
			Name: "restart", Reducer: countReducer, Initial: func() counts { return counts{} },
			Store: NewFileStore(b.TempDir()), CheckpointEvents: every, CheckpointPeriod: time.Hour, Logger: quiet,
		}
		ctx := context.Background()
		h, err := Start(ctx, sdk, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := h.WaitCaughtUp(ctx); err != nil {
			b.Fatal(err)
		}
		for sent := 0; sent < live; sent += 500 {
			if err := ingestBulkSerial(c, 500, sent); err != nil {
				b.Fatal(err)
			}
		}
		for h.Stats().Applied < live {
			time.Sleep(time.Millisecond)
		}
		h.w.cancel() // a crash: no final checkpoint
		<-h.Done()
		b.StartTimer()
		h2, err := Start(context.Background(), sdk, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := h2.WaitCaughtUp(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		replayed += h2.Stats().Replayed
		_ = h2.Stop(context.Background())
		_ = srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(replayed)/float64(b.N), "events-replayed")
	b.ReportMetric(every, "checkpoint-interval")
}

func ingestBulkSerial(c *core.Client, n, offset int) error {
	req := core.IngestEventsRequest{Events: make([]core.IngestEventRequest, n)}
	for i := range n {
		req.Events[i] = core.IngestEventRequest{
			EventType: "asset.updated", EntityID: common.EntityID(fmt.Sprintf("asset-%d", (offset+i)%500)),
			Payload: json.RawMessage(`{"price":1}`),
		}
	}
	_, err := c.IngestEvents(context.Background(), req)
	return err
}
