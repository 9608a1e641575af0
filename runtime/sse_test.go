package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

func readAllSSE(t *testing.T, r io.Reader, max int) []SSEEvent {
	t.Helper()
	sr := NewSSEReader(r, max)
	var out []SSEEvent
	for {
		ev, err := sr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ev.Data = bytes.Clone(ev.Data)
		out = append(out, ev)
	}
}

func TestSSEReaderWHATWG(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // type|id|data
	}{
		{"multi-line data", "data: a\ndata:b\ndata\n\n", []string{"message||a\nb\n"}},
		{"CR and CRLF", "event: x\rdata: 1\r\rdata: 2\r\n\r\n", []string{"x||1", "message||2"}},
		{"BOM and comment", "\ufeff: c\ndata: d\n\n", []string{"message||d"}},
		{"id persists", "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", []string{"message|7|a", "message|7|b", "message||c"}},
		{"id with NUL ignored", "id: 1\x002\ndata: a\n\n", []string{"message||a"}},
		{"no data, no event", "event: e\n\ndata: x\n\n", []string{"message||x"}},
		{"cut event discarded", "data: a\n\ndata: b", []string{"message||a"}},
		{"unknown field, no space", "foo: bar\ndata:x y\n\n", []string{"message||x y"}},
		{"only one leading space removed", "data:  two\n\n", []string{"message|| two"}},
		{"empty data line", "data\n\n", []string{"message||"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{1, 2, 3, 4096} {
				evs := readAllSSE(t, iotestChunks(tc.in, chunk), 0)
				var got []string
				for _, e := range evs {
					got = append(got, e.Type+"|"+e.ID+"|"+string(e.Data))
				}
				if strings.Join(got, ";") != strings.Join(tc.want, ";") {
					t.Errorf("chunk %d: got %q, want %q", chunk, got, tc.want)
				}
			}
		})
	}
}

func TestSSEReaderRetryAndLastID(t *testing.T) {
	sr := NewSSEReader(strings.NewReader("retry: 2500\nretry: x\nid: 9\ndata: a\n\n"), 0)
	ev, err := sr.Next()
	if err != nil || ev.Retry != 2500*time.Millisecond || sr.LastEventID() != "9" || sr.Retry() != ev.Retry {
		t.Fatalf("%+v %v", ev, err)
	}
}

func TestSSEReaderLimit(t *testing.T) {
	in := "data: " + strings.Repeat("x", 100) + "\n\n"
	_, err := NewSSEReader(strings.NewReader(in), 32).Next()
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("want ErrLineTooLong, got %v", err)
	}
	in = strings.Repeat("data: xxxxxxxxxx\n", 10) + "\n"
	_, err = NewSSEReader(strings.NewReader(in), 64).Next()
	if !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("event over the limit: want ErrLineTooLong, got %v", err)
	}
}

func TestRecordReader(t *testing.T) {
	rr := NewRecordReader(strings.NewReader("{\"a\":1}\r\n\n  \n[2]\n3"), JSONLines, 0)
	var got []string
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(rec))
	}
	if strings.Join(got, ";") != `{"a":1};[2];3` {
		t.Errorf("jsonl %q", got)
	}
	rr = NewRecordReader(strings.NewReader("\x1e{\"a\":1}\n\x1e[2]\x1e3\n"), JSONSeq, 0)
	got = nil
	for {
		rec, err := rr.Next()
		if err != nil {
			break
		}
		got = append(got, string(rec))
	}
	if strings.Join(got, ";") != `{"a":1};[2];3` {
		t.Errorf("json-seq %q", got)
	}
}

// FuzzSSEReader checks that any input, cut anywhere, neither panics nor
// yields an event that differs with the chunk size.
func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{"data: a\n\n", "\ufeffevent: e\r\ndata: x\r\ndata: y\r\r", "id: 1\nretry: 5\n:c\ndata\n\n", "data: \x00\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		one := readAllSSE(t, iotestChunks(in, 1), 0)
		all := readAllSSE(t, strings.NewReader(in), 0)
		if fmt.Sprint(one) != fmt.Sprint(all) {
			t.Fatalf("chunking changes the events: %q vs %q", one, all)
		}
	})
}

// iotestChunks returns a reader of s that returns at most n bytes a read.
func iotestChunks(s string, n int) io.Reader { return &chunkReader{s: s, n: n} }

type chunkReader struct {
	s string
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.s) == 0 {
		return 0, io.EOF
	}
	k := min(c.n, len(p), len(c.s))
	copy(p, c.s[:k])
	c.s = c.s[k:]
	return k, nil
}

// sseBody is a stream of n typical events.
func sseBody(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "event: inserted\nid: %d\ndata: {\"id\":\"evt-%d\",\"entity_id\":\"user-1\",\"payload\":{\"name\":\"Ada\",\"n\":%d}}\n\n", i, i, i)
	}
	return b.Bytes()
}

// plainSSE is a straightforward bufio.Scanner-based SSE reader (LF line
// endings only, a string per field): the baseline of BenchmarkSSE.
func plainSSE(r io.Reader, each func(typ, id, data string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var typ, id string
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				each(typ, id, strings.Join(data, "\n"))
			}
			typ, data = "", data[:0]
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				typ = value
			case "id":
				id = value
			case "data":
				data = append(data, value)
			}
		}
	}
	return sc.Err()
}

// BenchmarkSSE decodes the same stream of events with the runtime's
// SSEReader and with a plain bufio-based reader: events/s and allocs per
// event side by side.
func BenchmarkSSE(b *testing.B) {
	const n = 10000
	body := sseBody(n)
	b.Run("runtime.SSEReader", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			sr := NewSSEReader(bytes.NewReader(body), 0)
			for {
				if _, err := sr.Next(); err != nil {
					break
				}
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(0, "ns/op")
	})
	b.Run("plain-bufio", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			_ = plainSSE(bytes.NewReader(body), func(string, string, string) {})
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(0, "ns/op")
	})
}

// repeatReader returns body again and again, up to total bytes.
type repeatReader struct {
	body      []byte
	off, left int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p, r.body[r.off:])
	n = int(min(int64(n), r.left))
	r.off = (r.off + int64(n)) % int64(len(r.body))
	r.left -= int64(n)
	return n, nil
}

// BenchmarkSSEFlatMemory streams 1 GB of events through the SSEReader and
// prints the peak heap sampled along the way: it stays flat.
func BenchmarkSSEFlatMemory(b *testing.B) {
	const total = 1 << 30
	body := sseBody(1000)
	for b.Loop() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		var peak uint64
		sr := NewSSEReader(&repeatReader{body: body, left: total}, 0)
		events := 0
		for {
			if _, err := sr.Next(); err != nil {
				break
			}
			if events++; events%200000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
		b.Logf("1 GiB, %d events: heap before %d KiB, peak while streaming %d KiB", events, base>>10, peak>>10)
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	}
}
