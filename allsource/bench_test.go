package allsource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/coretest"
)

// liveHeap returns the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkFoldMillion folds every event of a 1,000,000-event store (b.N
// events; run it with -benchtime 1000000x) through CoreClient.Events, 1,000
// per page, and reports how much heap the fold holds beyond the store: the
// peak over the run (sampled every 50,000 events after a collection) and
// what stays once it is done, per event. A streaming fold keeps one page at
// a time, so both stay flat however many events there are.
func BenchmarkFoldMillion(b *testing.B) {
	n := b.N
	srv := coretest.NewServer(coretest.WithAPIKeys(testKey))
	defer srv.Close()
	const chunk = 10_000
	for start := 0; start < n; start += chunk {
		evs := make([]coretest.SeedEvent, 0, chunk)
		for i := start; i < min(start+chunk, n); i++ {
			evs = append(evs, coretest.SeedEvent{
				Type: "meter.read", EntityID: fmt.Sprintf("meter-%d", i%1000),
				Payload: json.RawMessage(fmt.Sprintf(`{"kwh":%d}`, i%97)),
			})
		}
		if _, err := srv.Seed(evs...); err != nil {
			b.Fatal(err)
		}
	}
	c, err := allsource.NewCoreClient(srv.URL, testKey, allsource.WithPageSize(1000))
	if err != nil {
		b.Fatal(err)
	}
	type total struct{ KWh int64 }
	base := liveHeap()
	var peak int64
	var seen int
	b.ReportAllocs()
	b.ResetTimer()
	state, folded, err := allsource.FoldEvents(context.Background(), c, allsource.Query{EventType: "meter.read"}, total{},
		allsource.FolderFunc[total](func(s total, e *allsource.Event) (total, error) {
			p, err := allsource.DecodePayload[struct{ KWh int64 }](e)
			s.KWh += p.KWh
			if seen++; seen%50_000 == 0 {
				b.StopTimer()
				peak = max(peak, int64(liveHeap())-int64(base))
				b.StartTimer()
			}
			return s, err
		}))
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if folded != int64(n) || state.KWh == 0 && n > 97 {
		b.Fatalf("folded %d events (state %+v), want %d", folded, state, n)
	}
	retained := int64(liveHeap()) - int64(base)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(peak), "peak-live-B")
	b.ReportMetric(float64(retained)/float64(n), "retained-B/event")
}
