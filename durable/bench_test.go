package durable_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allsource-go/allsource/durable"
	"github.com/allsource-go/allsource/internal/dstest"
)

// The benchmarks run against the reference server, each beside a plain
// net/http baseline making the same requests (sub-benchmarks client and
// nethttp), so the two are compared in one run:
//
//	go test ./durable -run '^$' -bench . -benchtime 200x
//
// Append and SSE report latency percentiles (p50-µs, p99-µs), the producer
// msgs/s for 100,000 messages of 100 bytes, the catch-up read MB/s over a
// 10 MB stream.

var benchSeq atomic.Int64

func benchStream(b *testing.B, c *durable.Client, ct string) *durable.Stream {
	b.Helper()
	s := c.Stream(fmt.Sprintf("bench/%d", benchSeq.Add(1))).WithContentType(ct)
	if _, err := s.Create(context.Background(), durable.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchDelete deletes a benchmark's stream once it is measured: the
// reference server keeps every stream in memory, and its garbage collector
// slows it down as they pile up (about twice as slow after a few hundred
// megabytes), so figures would otherwise depend on how long the run was.
func benchDelete(b *testing.B, s *durable.Stream) {
	b.Helper()
	if err := s.Delete(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func benchSetup(b *testing.B) (*dstest.Server, *durable.Client, *http.Client) {
	b.Helper()
	srv := dstest.Start(b, dstest.Options{LongPoll: 5 * time.Second})
	c, err := durable.New(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return srv, c, hc
}

// percentiles reports the p50 and p99 of ds.
func percentiles(b *testing.B, prefix string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), prefix+"p50-µs")
	b.ReportMetric(at(0.99), prefix+"p99-µs")
}

func rawPost(hc *http.Client, url, ct string, body []byte, h map[string]string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ct)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("POST: %s", resp.Status)
	}
	return resp, nil
}

// BenchmarkAppend: one 100-byte append with the client and one with
// net/http per operation, alternating so that both see the same server
// state; latency percentiles of each.
func BenchmarkAppend(b *testing.B) {
	srv, c, hc := benchSetup(b)
	data := bytes.Repeat([]byte("x"), 100)
	s := benchStream(b, c, "application/octet-stream")
	raw := benchStream(b, c, "application/octet-stream")
	url := srv.URL + "/" + raw.Path()
	ctx := context.Background()
	var client, base []time.Duration
	for i := 0; b.Loop(); i++ {
		clientFirst := i%2 == 0
		for k := range 2 {
			if (k == 0) == clientFirst {
				t := time.Now()
				if _, err := s.Append(ctx, data); err != nil {
					b.Fatal(err)
				}
				client = append(client, time.Since(t))
				continue
			}
			t := time.Now()
			resp, err := rawPost(hc, url, "application/octet-stream", data, nil)
			if err != nil || resp.Header.Get("Stream-Next-Offset") == "" {
				b.Fatal("nethttp append", err)
			}
			base = append(base, time.Since(t))
		}
	}
	percentiles(b, "client-", client)
	percentiles(b, "nethttp-", base)
}

// BenchmarkProducer: per operation, 100,000 messages of 100 bytes through
// the idempotent producer (default options but 10,000 items per batch:
// client; the same with one batch in flight: client-inflight1), then the
// same messages in the same batches (10,000 messages, producer headers)
// sent with net/http one after the other; msgs/s of each, from its median
// run. The three take turns at going first, after one round that warms up
// the server and the connections, and their streams are deleted once all
// three are measured.
//
// Against the single-threaded reference server, batches in flight together
// can arrive out of order and be sent twice (a sequence gap): the default
// producer starts with one in flight and learns, for its client, not to
// widen past the window a gap happened at; most of that learning, and the
// stalls of new connections that cause it, fall in the warm-up round.
func BenchmarkProducer(b *testing.B) {
	srv, c, hc := benchSetup(b)
	const n, size, batch = 100_000, 100, 10_000
	msg := bytes.Repeat([]byte("m"), size)
	body := bytes.Repeat(msg, batch)
	var streams []*durable.Stream
	produce := func(o durable.ProducerOptions) time.Duration {
		s := benchStream(b, c, "application/octet-stream")
		streams = append(streams, s)
		t := time.Now()
		p, err := s.Producer(o)
		if err != nil {
			b.Fatal(err)
		}
		for range n {
			if err := p.Append(msg); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Detach(context.Background()); err != nil {
			b.Fatal(err)
		}
		return time.Since(t)
	}
	run := [...]func() time.Duration{
		func() time.Duration { return produce(durable.ProducerOptions{ID: "bench", MaxBatchItems: batch}) },
		func() time.Duration {
			return produce(durable.ProducerOptions{ID: "bench", MaxBatchItems: batch, MaxInFlight: 1})
		},
		func() time.Duration {
			s := benchStream(b, c, "application/octet-stream")
			streams = append(streams, s)
			url := srv.URL + "/" + s.Path()
			t := time.Now()
			for seq := range n / batch {
				if _, err := rawPost(hc, url, "application/octet-stream", body, map[string]string{
					"Producer-Id": "bench", "Producer-Epoch": "0", "Producer-Seq": strconv.Itoa(seq)}); err != nil {
					b.Fatal(err)
				}
			}
			return time.Since(t)
		},
	}
	round := func(first int, took *[len(run)][]time.Duration) {
		for k := range run {
			i := (first + k) % len(run)
			d := run[i]()
			if took != nil {
				took[i] = append(took[i], d)
			}
		}
		for _, s := range streams {
			benchDelete(b, s)
		}
		streams = streams[:0]
	}
	round(0, nil)
	var took [len(run)][]time.Duration
	for i := 0; b.Loop(); i++ {
		round(i, &took)
	}
	rate := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return n / ds[len(ds)/2].Seconds()
	}
	b.ReportMetric(rate(took[1]), "client-inflight1-msgs/s")
	b.ReportMetric(rate(took[0]), "client-msgs/s")
	b.ReportMetric(rate(took[2]), "nethttp-msgs/s")
}

// BenchmarkCatchUpRead: a 10 MB stream (100 appends of 100 KB) read from
// the start to the tail with the client and with net/http following
// Stream-Next-Offset, the two alternating which goes first after one
// read each to warm up; MB/s of each.
func BenchmarkCatchUpRead(b *testing.B) {
	srv, c, hc := benchSetup(b)
	s := benchStream(b, c, "application/octet-stream")
	chunk := bytes.Repeat([]byte("r"), 100_000)
	for range 100 {
		if _, err := s.Append(context.Background(), chunk); err != nil {
			b.Fatal(err)
		}
	}
	const total = 10_000_000
	readClient := func() {
		n := 0
		for ch, err := range s.Read(context.Background(), durable.ReadOptions{}) {
			if err != nil {
				b.Fatal(err)
			}
			n += len(ch.Data)
		}
		if n != total {
			b.Fatalf("read %d bytes", n)
		}
	}
	readBase := func() {
		n, offset := 0, "-1"
		for {
			resp, err := hc.Get(srv.URL + "/" + s.Path() + "?offset=" + offset)
			if err != nil {
				b.Fatal(err)
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(resp.Status, err)
			}
			n += len(data)
			offset = resp.Header.Get("Stream-Next-Offset")
			if resp.Header.Get("Stream-Up-To-Date") != "" {
				break
			}
		}
		if n != total {
			b.Fatalf("read %d bytes", n)
		}
	}
	readClient() // warms up the server and the connections
	readBase()
	var client, base time.Duration
	for i := 0; b.Loop(); i++ {
		for k := range 2 {
			t := time.Now()
			if (k == 0) == (i%2 == 0) {
				readClient()
				client += time.Since(t)
			} else {
				readBase()
				base += time.Since(t)
			}
		}
	}
	b.ReportMetric(float64(total*b.N)/1e6/client.Seconds(), "client-MB/s")
	b.ReportMetric(float64(total*b.N)/1e6/base.Seconds(), "nethttp-MB/s")
}

// BenchmarkSSEDelivery: the time from an append to its arrival at a
// reader following the stream over SSE, alternating per operation between
// the client (its append and its SSE read) and net/http (a POST and a
// plain SSE parser) on two streams; latency percentiles of each.
func BenchmarkSSEDelivery(b *testing.B) {
	srv, c, hc := benchSetup(b)
	msg := bytes.Repeat([]byte("s"), 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := benchStream(b, c, "text/plain")
	gotClient := make(chan int, 16)
	go func() {
		for ch, err := range s.Read(ctx, durable.ReadOptions{Live: durable.LiveSSE}) {
			if err != nil {
				return
			}
			if len(ch.Data) > 0 {
				gotClient <- len(ch.Data)
			}
		}
	}()
	raw := benchStream(b, c, "text/plain")
	url := srv.URL + "/" + raw.Path()
	gotBase := make(chan int, 16)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"?offset=-1&live=sse", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		n, data := 0, false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "event: data":
				data = true
			case strings.HasPrefix(line, "data:") && data:
				n += len(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			case strings.HasPrefix(line, "event: control"):
				data = false
				if n > 0 {
					gotBase <- n
					n = 0
				}
			}
		}
	}()
	time.Sleep(300 * time.Millisecond) // both readers are connected
	wait := func(got chan int) {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			b.Fatal("no delivery")
		}
	}
	var client, base []time.Duration
	for b.Loop() {
		t := time.Now()
		if _, err := s.Append(ctx, msg); err != nil {
			b.Fatal(err)
		}
		wait(gotClient)
		client = append(client, time.Since(t))
		t = time.Now()
		if _, err := rawPost(hc, url, "text/plain", msg, nil); err != nil {
			b.Fatal(err)
		}
		wait(gotBase)
		base = append(base, time.Since(t))
	}
	percentiles(b, "client-", client)
	percentiles(b, "nethttp-", base)
}
