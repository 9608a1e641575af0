package projection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recordedStream is a consumer's replay as Core sends it, held in memory:
// the replay frames of n events (the shape of reference §5.7, as the
// embedded server writes them) followed by replay_complete.
type recordedStream struct {
	data []byte
	ends []int // frame i is data[ends[i-1]:ends[i]]
}

// recordReplay builds the replay of n events spread round-robin over
// entities: each entity's events carry consecutive versions, as Core's do.
func recordReplay(n, entities int) *recordedStream {
	// A frame takes some 300 bytes: room for 320 each, so that the
	// buffer is not copied as it grows (which held both copies at once,
	// and left the collector's goal at twice the recording).
	r := &recordedStream{data: make([]byte, 0, n*320), ends: make([]int, 0, n+1)}
	versions := make([]int32, entities)
	types := []string{"asset.registered", "asset.updated", "exchange_mapping.set"}
	for i := range n {
		e := i % entities
		versions[e]++
		b := r.data
		b = append(b, `{"type":"replay","position":`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, `,"event":{"id":"`...)
		b = fmt.Appendf(b, "%08x-0000-4000-8000-%012x", i>>16, i)
		b = append(b, `","event_type":"`...)
		b = append(b, types[i%3]...)
		b = append(b, `","entity_id":"asset-`...)
		b = strconv.AppendInt(b, int64(e), 10)
		b = append(b, `","tenant_id":"default","payload":{"symbol":"SYM`...)
		b = strconv.AppendInt(b, int64(e), 10)
		b = append(b, `","price":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `.25,"venue":"x"},"timestamp":"2026-01-01T00:00:00.123456Z","metadata":null,"version":`...)
		b = strconv.AppendInt(b, int64(versions[e]), 10)
		b = append(b, "}}"...)
		r.data = b
		r.ends = append(r.ends, len(b))
	}
	r.data = append(r.data, `{"type":"replay_complete","replayed":`...)
	r.data = strconv.AppendInt(r.data, int64(n), 10)
	r.data = append(r.data, '}')
	r.ends = append(r.ends, len(r.data))
	return r
}

// memoryCore serves one consumer from a recorded replay, in memory: the
// worker's side of the wire alone, without a server or a socket.
type memoryCore struct {
	rec *recordedStream
	// pauseAt, when resume is set, is the number of frames a stream sends
	// before it waits for resume to be closed.
	pauseAt int
	resume  chan struct{}

	mu       sync.Mutex
	cursors  map[string]int64
	connects []string // the consumers streams were opened for
}

func (m *memoryCore) register(_ context.Context, consumer string, _ []string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cursors[consumer], nil
}

func (m *memoryCore) pending(context.Context, string, int) ([]pendingEvent, error) {
	return nil, nil // every event arrives replayed, with its position
}

func (m *memoryCore) ack(_ context.Context, consumer string, pos int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cursors == nil {
		m.cursors = make(map[string]int64)
	}
	m.cursors[consumer] = max(m.cursors[consumer], pos)
	return nil
}

func (m *memoryCore) connect(_ context.Context, consumer string, _ []string) (stream, error) {
	m.mu.Lock()
	m.connects = append(m.connects, consumer)
	m.mu.Unlock()
	return &memoryStream{rec: m.rec, closed: make(chan struct{}), pauseAt: m.pauseAt, resume: m.resume}, nil
}

func (m *memoryCore) putStates(context.Context, string, []EntityState) error {
	return errors.New("memoryCore: no projection store")
}

func (m *memoryCore) getState(context.Context, string, string) (json.RawMessage, bool, error) {
	return nil, false, errors.New("memoryCore: no projection store")
}

type memoryStream struct {
	rec     *recordedStream
	i       int
	closed  chan struct{}
	once    sync.Once
	pauseAt int
	resume  chan struct{}
}

// next returns the recorded frames in order (sub-slices: the worker never
// modifies a frame), pausing at pauseAt when resume is set, then blocks
// until closed, as a live stream with no new events does.
func (s *memoryStream) next(ctx context.Context) ([]byte, error) {
	if s.resume != nil && s.i == s.pauseAt {
		select {
		case <-s.resume:
		case <-s.closed:
			return nil, errors.New("memoryStream: closed")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.i < len(s.rec.ends) {
		start := 0
		if s.i > 0 {
			start = s.rec.ends[s.i-1]
		}
		s.i++
		return s.rec.data[start:s.rec.ends[s.i-1]:s.rec.ends[s.i-1]], nil
	}
	select {
	case <-s.closed:
		return nil, errors.New("memoryStream: closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *memoryStream) close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// countPerEntity is the catch-up benchmark's reducer: events per entity,
// in a keyed state.
func countPerEntity(m *Map[int64], ev Event) (*Map[int64], error) {
	n, _ := m.Get(ev.EntityID)
	m.Set(ev.EntityID, n+1)
	return m, nil
}

// BenchmarkCatchUpEntities measures the worker's catch-up over 1,000,000
// events touching 1,000, 100,000 or 1,000,000 entities, counting events per
// entity in a keyed state (*Map), with the default settings and a
// FileStore (every checkpoint a synced file, a delta after the first). It
// measures the worker alone: the replay frames are those Core sends,
// recorded in memory and handed over without a server or a socket, so the
// figure is what decoding, deduplicating, reducing and checkpointing cost
// (BenchmarkCatchUp measures the same end to end, against the embedded
// server). events/s is the figure to compare across entity counts.
func BenchmarkCatchUpEntities(b *testing.B) {
	const n = 1_000_000
	for _, entities := range []int{1000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("entities=%d", entities), func(b *testing.B) {
			rec := recordReplay(n, entities)
			// Each entity count starts from a heap of the recording alone,
			// not from what the previous one left to collect.
			runtime.GC()
			i := 0
			var cpu time.Duration
			var checkpoints int64
			for b.Loop() {
				i++
				store := NewFileStore(b.TempDir())
				cfg := Config[*Map[int64]]{Name: "catchup", Reducer: countPerEntity, Store: store, Logger: quiet}
				cpu0 := processCPU()
				h, err := start(context.Background(), &memoryCore{rec: rec}, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if err := h.WaitCaughtUp(context.Background()); err != nil {
					b.Fatal(err)
				}
				cpu += processCPU() - cpu0
				b.StopTimer()
				st := h.Stats()
				if st.Applied != n {
					b.Fatalf("applied %d, want %d", st.Applied, n)
				}
				if err := h.Stop(context.Background()); err != nil {
					b.Fatal(err)
				}
				checkpoints += st.Checkpoints
				var size int
				h.Read(func(m *Map[int64]) { size = m.Len() })
				if size != entities {
					b.Fatalf("state holds %d entities, want %d", size, entities)
				}
				store.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(i)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*i), "cpu-ns/event")
			b.ReportMetric(float64(checkpoints)/float64(i), "checkpoints")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkCatchUpPartitions measures catch-up of 1,000,000 events over
// 100,000 entities by 1, 2 and 4 partitions started together in one
// process (sharing one stream, read and decoded once), as
// BenchmarkCatchUpEntities does for one worker.
func BenchmarkCatchUpPartitions(b *testing.B) {
	const n, entities = 1_000_000, 100_000
	rec := recordReplay(n, entities)
	for _, parts := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("partitions=%d", parts), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				store := NewFileStore(b.TempDir())
				cfg := Config[*Map[int64]]{Name: "catchup", Reducer: countPerEntity, Store: store, Logger: quiet}
				core := &memoryCore{rec: rec}
				var hs []*Handle[*Map[int64]]
				if parts == 1 {
					h, err := start(context.Background(), core, cfg)
					if err != nil {
						b.Fatal(err)
					}
					hs = append(hs, h)
				} else {
					cfg.Partition.Count = parts
					var err error
					if hs, err = startPartitions(context.Background(), core, cfg, nil); err != nil {
						b.Fatal(err)
					}
				}
				for _, h := range hs {
					if err := h.WaitCaughtUp(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				var applied int64
				for _, h := range hs {
					applied += h.Stats().Applied
					if err := h.Stop(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				if applied != n {
					b.Fatalf("applied %d, want %d", applied, n)
				}
				store.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(i)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
