package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/allsource-go/allsource/durable"
)

// benchOp is the operation of a benchmark command.
type benchOp struct {
	Op            string `json:"op"`
	Path          string `json:"path"`
	Size          int    `json:"size"`
	Offset        string `json:"offset"`
	Live          string `json:"live"`
	ContentType   string `json:"contentType"`
	Count         int    `json:"count"`
	Concurrency   int    `json:"concurrency"`
	ExpectedCount int    `json:"expectedCount"`
}

// payload returns size bytes of random data (hex, valid text).
func payload(size int) []byte {
	raw := make([]byte, (size+1)/2)
	_, _ = rand.Read(raw)
	return []byte(hex.EncodeToString(raw)[:size])
}

// benchmark times one operation; the operations check what they did.
func (a *adapter) benchmark(ctx context.Context, cmd command) result {
	var op benchOp
	if err := json.Unmarshal(cmd.Operation, &op); err != nil {
		return errorResult(cmd.Type, "PARSE_ERROR", 0, "operation: "+err.Error())
	}
	var bytes, msgs int64
	start := time.Now()
	var err error
	switch op.Op {
	case "append":
		_, err = a.streamOf(op.Path).Append(ctx, payload(op.Size))
		bytes, msgs = int64(op.Size), 1
	case "read":
		o := durable.ReadOptions{Offset: op.Offset}
		for ch, rerr := range a.streamOf(op.Path).Read(ctx, o) {
			if rerr != nil {
				err = rerr
				break
			}
			bytes += int64(len(ch.Data))
		}
	case "create":
		ct := op.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		_, err = a.client.Stream(op.Path).Create(ctx, durable.CreateOptions{ContentType: ct})
		a.contentType[op.Path] = ct
	case "roundtrip":
		bytes, err = a.roundtrip(ctx, op)
		msgs = 1
	case "throughput_append":
		msgs, bytes, err = a.throughputAppend(ctx, op)
	case "throughput_read":
		s := a.client.Stream(op.Path).WithContentType("application/json")
		for m, rerr := range s.Messages(ctx, durable.ReadOptions{}) {
			if rerr != nil {
				err = rerr
				break
			}
			msgs++
			bytes += int64(len(m))
		}
		if err == nil && op.ExpectedCount > 0 && msgs != int64(op.ExpectedCount) {
			err = fmt.Errorf("read %d messages, want %d", msgs, op.ExpectedCount)
		}
	default:
		return errorResult(cmd.Type, "NOT_SUPPORTED", 0, "benchmark operation "+strconv.Quote(op.Op)+" is not supported")
	}
	d := time.Since(start)
	if err != nil {
		return failure(cmd.Type, err)
	}
	secs := d.Seconds()
	metrics := map[string]any{"bytesTransferred": bytes, "messagesProcessed": msgs}
	if secs > 0 {
		metrics["opsPerSecond"] = float64(max(msgs, 1)) / secs
		metrics["bytesPerSecond"] = float64(bytes) / secs
	}
	return result{"type": "benchmark", "success": true, "iterationId": cmd.IterationID, "durationNs": strconv.FormatInt(d.Nanoseconds(), 10), "metrics": metrics}
}

// roundtrip creates a stream, follows it live from its tail, appends one
// payload and waits until the reader has it.
func (a *adapter) roundtrip(ctx context.Context, op benchOp) (int64, error) {
	ct := op.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	s := a.client.Stream(op.Path).WithContentType(ct)
	res, err := s.Create(ctx, durable.CreateOptions{})
	if err != nil {
		return 0, err
	}
	data := payload(op.Size)
	if s.ContentType() == "application/json" {
		data, _ = json.Marshal(string(data))
	}
	live := durable.LiveLongPoll
	if op.Live == "sse" {
		live = durable.LiveSSE
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		n := 0
		for ch, err := range s.Read(ctx, durable.ReadOptions{Offset: res.NextOffset, Live: live}) {
			if err != nil {
				got <- err
				return
			}
			n += len(ch.Data)
			if n > 0 {
				got <- nil
				return
			}
		}
		got <- fmt.Errorf("the read ended without the payload")
	}()
	if _, err := s.Append(ctx, data); err != nil {
		return 0, err
	}
	return int64(len(data)), <-got
}

// throughputAppend appends count payloads with concurrency producers.
func (a *adapter) throughputAppend(ctx context.Context, op benchOp) (int64, int64, error) {
	conc := max(op.Concurrency, 1)
	per := op.Count / conc
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	data := payload(op.Size)
	for w := range conc {
		n := per
		if w == conc-1 {
			n = op.Count - per*(conc-1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := a.streamOf(op.Path).Producer(durable.ProducerOptions{ID: fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), w)})
			if err != nil {
				errs <- err
				return
			}
			for range n {
				if err := p.Append(data); err != nil {
					errs <- err
					return
				}
			}
			errs <- p.Detach(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}
	return int64(op.Count), int64(op.Count * op.Size), nil
}
