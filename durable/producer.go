package durable

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allsource-go/allsource/gen/durablestreams"
	"github.com/allsource-go/allsource/runtime"
)

// ProducerOptions configure an idempotent producer.
type ProducerOptions struct {
	// ID identifies the producer on the stream (required). A restarted
	// producer keeps its ID and takes a higher Epoch.
	ID string
	// Epoch is the producer's epoch, 0 or more; bump it on restart. The
	// server fences off the older epoch's requests (ErrStaleEpoch).
	Epoch int64
	// AutoClaim recovers from ErrStaleEpoch, and from ErrEpochInUse met on
	// the first batch of an epoch, by taking the server's epoch plus one
	// and sending the unacknowledged batches again, in order. After 3
	// epochs taken in a row without a batch acknowledged in between, the
	// producer fails with the last of those errors.
	AutoClaim bool
	// MaxBatchBytes seals a batch before it grows past this many bytes
	// (default 1 MiB). A single larger item is sent alone.
	MaxBatchBytes int
	// MaxBatchItems seals a batch at this many items (default 10,000).
	MaxBatchItems int
	// Linger is how long a batch waits for more items before it is sent
	// (default 5 ms; negative: it is sealed without waiting and sent as
	// soon as the window allows, with the items appended meanwhile).
	Linger time.Duration
	// MaxInFlight is how many batches may be in flight at once (default
	// 5); their order is kept. The producer starts with one and widens
	// its window while batches are acknowledged in order and others wait;
	// a sequence gap (a batch that overtook its predecessor, and so is
	// sent twice) narrows it, for the client's other producers too.
	MaxInFlight int
	// ContentType is the stream's content type; the handle's by default,
	// else application/octet-stream. On a JSON stream each item is one
	// JSON value and a batch is sent as one array.
	ContentType string
}

// Validate checks the options; the returned error names the offending
// option and matches ErrInvalidArgument.
func (o ProducerOptions) Validate() error {
	bad := func(format string, a ...any) error { return invalid("producer", format, a...) }
	switch {
	case o.ID == "":
		return bad("ID is empty")
	case o.Epoch < 0:
		return bad("epoch %d is negative", o.Epoch)
	case o.MaxBatchBytes < 0:
		return bad("maxBatchBytes %d is negative", o.MaxBatchBytes)
	case o.MaxBatchItems < 0:
		return bad("maxBatchItems %d is negative", o.MaxBatchItems)
	case o.MaxInFlight < 0:
		return bad("maxInFlight %d is negative", o.MaxInFlight)
	}
	return nil
}

// Producer appends items to a stream exactly once: each batch carries the
// producer's id, epoch and sequence number, so the server stores a batch
// once however often it is retried. Items are batched by size, count and
// linger time; several batches may be in flight, in order. It is safe for
// concurrent use.
//
// The batch bodies of acknowledged batches are reused by the client's
// producers: an item is copied once, into its batch.
//
// An error that ends the producer (a batch refused, retries exhausted) is
// kept: Append, Flush, Close and Detach return it, and Err reports it.
type Producer struct {
	s    *Stream
	o    ProducerOptions
	ct   string
	json bool

	pushMu sync.Mutex // held while a sealed batch is queued: keeps batches in order
	mu     sync.Mutex
	cur    *batch // the batch being filled, or nil
	timer  *time.Timer
	last   *batch // the last batch queued
	count  int64  // batches sealed so far
	offset string
	epoch  int64
	err    error
	closed bool   // Close or Detach was called: no more items
	final  string // the final offset once the stream is closed

	lastLen int         // the body length of the last sealed batch: the next one's likely size
	queue   chan *batch // sealed batches waiting to start, in order

	flightMu sync.Mutex // guards flight; taken before mu, never while blocking
	flight   flight
	stopped  chan struct{} // closed once stopping and nothing is in flight
}

// flight is the state of the batches being sent (Producer.flightMu held).
type flight struct {
	seq      int64 // the next batch's sequence number
	inFlight int
	window   int      // how many batches may be in flight now
	resend   []*batch // batches refused for a stale epoch, in order
	claiming bool     // waiting for the batches in flight before taking the next epoch
	// confirmed: a batch of the current epoch was acknowledged. The first
	// batch of an epoch goes alone: a later one arriving first would be
	// refused (a new epoch must start at sequence 0).
	confirmed   bool
	serverEpoch int64
	claims      int           // epochs taken in a row without a batch acknowledged
	lastWrote   chan struct{} // the last started batch's wrote
	stopping    bool
}

// batch is one request of the producer.
type batch struct {
	n      int64 // position in the producer's order
	items  int
	over   bool // done is closed (guarded by Producer.mu)
	body   []byte
	close  bool
	epoch  int64
	seq    int64
	done   chan struct{} // closed when the batch is acknowledged or failed
	err    error
	offset string
	// attempt is closed when the current attempt's outcome is known; a
	// batch that finds a gap before it waits for its predecessor's.
	attempt chan struct{}
	// wrote is closed once the current attempt's request is written (or
	// over): the next batch starts then, so batches reach the server in
	// order and rarely meet a sequence gap.
	wrote     chan struct{}
	wroteOnce *sync.Once
	prev      *batch
	// prevAttempt is the predecessor's attempt when b started, or nil.
	prevAttempt chan struct{}
	// writes counts the requests whose headers were written under the
	// batch's current epoch and sequence number: after only one, a
	// duplicate answer cannot be the server's memory of an earlier one.
	writes atomic.Int32
}

// Producer returns an idempotent producer for the stream. It does no I/O;
// bad options fail with ErrInvalidArgument.
func (s *Stream) Producer(o ProducerOptions) (*Producer, error) {
	if err := o.Validate(); err != nil {
		err.(*Error).Path = s.path
		return nil, err
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = 1 << 20
	}
	if o.MaxBatchItems == 0 {
		o.MaxBatchItems = 10000
	}
	if o.Linger == 0 {
		o.Linger = 5 * time.Millisecond
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 5
	}
	ct := o.ContentType
	if ct == "" {
		ct = s.contentType
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	p := &Producer{s: s, o: o, ct: ct, json: IsJSON(ct), epoch: o.Epoch,
		queue: make(chan *batch, o.MaxInFlight), stopped: make(chan struct{}), flight: flight{window: 1}}
	return p, nil
}

// Append queues data as one item: bytes appended as they are, or one JSON
// value on a JSON stream. It returns at once unless MaxInFlight batches
// are waiting to be sent; ErrProducerClosed after Close or Detach, and the
// producer's error once it failed.
func (p *Producer) Append(data []byte) error {
	if p.json && !json.Valid(data) {
		return &Error{Op: "append", Path: p.s.path, Kind: ErrInvalidArgument, Err: errors.New("item is not a JSON value")}
	}
	if len(data) == 0 {
		return &Error{Op: "append", Path: p.s.path, Kind: ErrInvalidArgument, Err: errors.New("empty item")}
	}
	return p.add(data)
}

// AppendJSON queues v, JSON-encoded, as one message of a JSON stream.
func (p *Producer) AppendJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return &Error{Op: "append", Path: p.s.path, Kind: ErrInvalidArgument, Err: err}
	}
	return p.add(data)
}

// add queues data as one item.
func (p *Producer) add(data []byte) error {
	p.mu.Lock()
	if b := p.cur; b != nil && p.err == nil && !p.closed &&
		b.items+1 < p.o.MaxBatchItems && len(b.body)+len(data)+2 < p.o.MaxBatchBytes && len(b.body)+len(data)+2 <= cap(b.body) {
		// The item neither starts nor ends a batch, and fits in its body
		// as it is, with room left for a JSON batch's "," or "]" (as
		// grow leaves): the common case.
		if p.json {
			b.body = append(b.body, ',') // b holds an item already
		}
		b.body = append(b.body, data...)
		b.items++
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	return p.addSlow(data)
}

// addSlow queues data when it may start or end a batch, or the body must
// grow.
func (p *Producer) addSlow(data []byte) error {
	p.mu.Lock()
	if err := p.usable(); err != nil {
		p.mu.Unlock()
		return err
	}
	if b := p.cur; b != nil && b.items+1 < p.o.MaxBatchItems && len(b.body)+len(data)+2 < p.o.MaxBatchBytes {
		// The item neither starts nor ends a batch.
		p.appendItem(b, data)
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	// The item starts or ends a batch: pushMu keeps the sealed batches in
	// order until they are queued.
	p.pushMu.Lock()
	defer p.pushMu.Unlock()
	p.mu.Lock()
	if err := p.usable(); err != nil {
		p.mu.Unlock()
		return err
	}
	var full *batch
	if b := p.cur; b != nil && len(b.body)+len(data)+1 > p.o.MaxBatchBytes {
		full = p.seal()
	}
	b := p.cur
	if b == nil {
		b = &batch{}
		if buf, ok := p.s.c.bodies.Get().(*[]byte); ok {
			b.body = (*buf)[:0]
		}
		if want := min(p.lastLen+p.lastLen/8, p.o.MaxBatchBytes+2); cap(b.body) < want {
			// Sized like the last batch at once, rather than doubled up to
			// it, copying it each time.
			b.body = make([]byte, 0, want)
		}
		if p.json {
			b.body = append(b.body, '[')
		}
		p.cur = b
		p.timer = time.AfterFunc(max(p.o.Linger, 0), func() { p.lingerDone(b) })
	}
	p.appendItem(b, data)
	var also *batch
	if b.items >= p.o.MaxBatchItems || len(b.body) >= p.o.MaxBatchBytes {
		also = p.seal()
	}
	p.mu.Unlock()
	for _, s := range []*batch{full, also} {
		if s != nil {
			if err := p.push(s); err != nil {
				return err
			}
			// Let a request that push started begin now: a caller
			// appending without pause would otherwise keep this
			// processor, and the request wait its turn.
			goruntime.Gosched()
		}
	}
	return nil
}

// appendItem adds data to b as one item (p.mu held).
func (p *Producer) appendItem(b *batch, data []byte) {
	if p.json && b.items > 0 {
		b.body = append(b.body, ',')
	}
	b.body = grow(b.body, len(data)+2, p.o.MaxBatchBytes+2)
	b.body = append(b.body, data...)
	b.items++
}

// grow makes room for n more bytes in buf, doubling its capacity (from
// 4 KiB, up to limit unless more is needed), so a batch is copied about
// once however it grows.
func grow(buf []byte, n, limit int) []byte {
	if len(buf)+n <= cap(buf) {
		return buf
	}
	c := max(2*cap(buf), 4<<10)
	c = max(min(c, limit), len(buf)+n)
	out := make([]byte, len(buf), c)
	copy(out, buf)
	return out
}

// usable says why no item may be added (p.mu held).
func (p *Producer) usable() error {
	if p.err != nil {
		return p.err
	}
	if p.closed {
		return &Error{Op: "append", Path: p.s.path, Kind: ErrProducerClosed}
	}
	return nil
}

// seal ends the batch being filled and returns it (p.mu held).
func (p *Producer) seal() *batch {
	b := p.cur
	if b == nil {
		return nil
	}
	p.cur = nil
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if p.json {
		b.body = append(b.body, ']')
	}
	p.lastLen = len(b.body)
	b.done = make(chan struct{})
	b.n, p.count = p.count, p.count+1
	b.prev, p.last = p.last, b
	return b
}

// push queues a sealed batch and starts it if the window allows (p.pushMu
// held).
func (p *Producer) push(b *batch) error {
	select {
	case p.queue <- b:
		p.pump()
		return nil
	case <-p.stopped:
		return p.Err()
	}
}

// pump starts the next batch, in a goroutine of its own, if one may start
// now.
func (p *Producer) pump() {
	p.flightMu.Lock()
	b := p.next()
	p.flightMu.Unlock()
	if b != nil {
		go p.run(b)
	}
}

// lingerDone seals b, whose linger time passed, unless it was sealed
// already.
func (p *Producer) lingerDone(b *batch) {
	p.pushMu.Lock()
	defer p.pushMu.Unlock()
	p.mu.Lock()
	if p.cur != b {
		p.mu.Unlock()
		return
	}
	b = p.seal()
	p.mu.Unlock()
	_ = p.push(b)
}

// Flush sends the batch being filled and waits until every item appended
// so far is acknowledged, or returns the producer's error.
func (p *Producer) Flush(ctx context.Context) error {
	p.pushMu.Lock()
	p.mu.Lock()
	b := p.seal()
	p.mu.Unlock()
	if b != nil {
		if err := p.push(b); err != nil {
			p.pushMu.Unlock()
			return err
		}
	}
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	p.pushMu.Unlock()
	if last != nil {
		select {
		case <-last.done:
		case <-ctx.Done():
			return newError("flush", p.s.path, ctx.Err())
		}
	}
	return p.Err()
}

// Close flushes, then closes the stream with the producer's headers,
// appending final first when it is not empty, and stops the producer. It
// returns the stream's final offset. Closing again returns the same
// result; a stream closed by someone else gives ErrClosed.
func (p *Producer) Close(ctx context.Context, final []byte) (string, error) {
	if err := p.Flush(ctx); err != nil {
		return "", err
	}
	p.pushMu.Lock()
	p.mu.Lock()
	if p.closed {
		off, err := p.final, p.err
		p.mu.Unlock()
		p.pushMu.Unlock()
		if off == "" && err == nil {
			err = &Error{Op: "close", Path: p.s.path, Kind: ErrProducerClosed}
		}
		return off, err
	}
	p.closed = true
	// Items appended since the flush go before the close.
	late := p.seal()
	b := &batch{close: true, done: make(chan struct{}), n: p.count}
	p.count++
	if len(final) > 0 {
		if p.json {
			b.body = wrapArray(final)
		} else {
			b.body = final
		}
		b.items = 1
	}
	b.prev, p.last = p.last, b
	p.mu.Unlock()
	var err error
	if late != nil {
		err = p.push(late)
	}
	if err == nil {
		err = p.push(b)
	}
	p.pushMu.Unlock()
	if err != nil {
		return "", err
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		return "", newError("close", p.s.path, ctx.Err())
	}
	p.shutdown()
	p.mu.Lock()
	defer p.mu.Unlock()
	if b.err != nil {
		return "", b.err
	}
	p.final = b.offset
	return p.final, nil
}

// Detach flushes and stops the producer without closing the stream.
func (p *Producer) Detach(ctx context.Context) error {
	// No item is taken once the flush has begun, so none is left behind.
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.Flush(ctx)
	p.shutdown()
	return err
}

// shutdown stops the producer: no batch starts any more, the batches in
// flight are settled, then the queued ones fail with ErrProducerClosed.
func (p *Producer) shutdown() {
	p.flightMu.Lock()
	if f := &p.flight; !f.stopping {
		f.stopping = true
		if f.inFlight == 0 {
			p.drainQueue()
			close(p.stopped)
		}
	}
	p.flightMu.Unlock()
	<-p.stopped
}

// Offset returns the stream offset after the last acknowledged batch; it
// never moves backwards.
func (p *Producer) Offset() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offset
}

// Epoch returns the producer's current epoch (higher than the one it
// started with after an auto-claim).
func (p *Producer) Epoch() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.epoch
}

// Err returns the error that ended the producer, or nil.
func (p *Producer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// maxClaims is how many epochs an AutoClaim producer takes in a row, none
// of them getting a batch acknowledged, before it gives up: one is enough
// unless another writer keeps taking newer epochs, and a server that
// refuses every epoch must not be asked again without end.
const maxClaims = 3

// outcome is the result of one attempt of a batch.
type outcome struct {
	b   *batch
	res *durablestreams.AppendResult
	err error
	gap bool // the batch met a sequence gap: it overtook its predecessor
}

// run sends b, then the batches after it that may start once its outcome
// is known, one after the other in this goroutine: the goroutine that
// learns a batch's outcome starts the next request itself, with no other
// goroutine to wake in between. A batch started while others are in flight
// (window above one) gets a goroutine of its own.
func (p *Producer) run(b *batch) {
	for b != nil {
		b = p.complete(p.send(b))
	}
}

// next takes the next batch that may start now (resent batches first,
// then the queue), gives it its epoch and sequence number and counts it in
// flight; nil when none may start (p.flightMu held). It starts at most one
// batch: the next waits until this one's request is written, so batches
// reach the server in order and rarely meet a sequence gap.
func (p *Producer) next() *batch {
	f := &p.flight
	if f.stopping {
		if f.inFlight == 0 {
			p.drainQueue() // pushed after the producer stopped
		}
		return nil
	}
	for p.canStart() {
		var b *batch
		if len(f.resend) > 0 {
			b, f.resend = f.resend[0], f.resend[1:]
		} else {
			select {
			case b = <-p.queue:
			default:
				return nil
			}
		}
		if err := p.Err(); err != nil {
			p.settle(b, nil, err)
			continue
		}
		p.mu.Lock()
		b.epoch, b.seq = p.epoch, f.seq
		p.mu.Unlock()
		f.seq++
		b.prevAttempt = nil
		if b.prev != nil {
			b.prevAttempt = b.prev.attempt
		}
		b.attempt = make(chan struct{})
		b.wrote, b.wroteOnce = make(chan struct{}), new(sync.Once)
		b.writes.Store(0)
		f.lastWrote = b.wrote
		f.inFlight++
		return b
	}
	return nil
}

// canStart says whether a batch may start now (p.flightMu held).
func (p *Producer) canStart() bool {
	f := &p.flight
	switch {
	case f.claiming:
		return false
	case !f.confirmed:
		return f.inFlight == 0
	case f.inFlight >= f.window:
		return false
	}
	if f.lastWrote != nil {
		select {
		case <-f.lastWrote:
		default:
			return false
		}
	}
	return true
}

// complete settles the outcome of one attempt and returns the next batch
// to send, if one may start now. After a stale epoch with AutoClaim it
// waits for the batches in flight, takes the next epoch and sends the
// unacknowledged batches again in order.
//
// How many batches may be in flight adapts: one at first, one more each
// time a batch is acknowledged while others wait to be sent, up to
// MaxInFlight and the client's ceiling; a batch that overtook its
// predecessor (a sequence gap, which costs it a second trip) brings the
// window back to one and lowers the client's ceiling for good to one less
// than the window it happened at, so that the client's other producers,
// which write to the same server, do not try it again.
func (p *Producer) complete(r outcome) *batch {
	p.flightMu.Lock()
	defer p.flightMu.Unlock()
	f := &p.flight
	f.inFlight--
	close(r.b.attempt)
	r.b.wroteOnce.Do(func() { close(r.b.wrote) })
	if f.stopping {
		if r.err != nil {
			p.fail(r.err)
		} else {
			p.settle(r.b, r.res, nil)
		}
		if f.inFlight == 0 {
			p.drainQueue()
			close(p.stopped)
		}
		return nil
	}
	if r.gap {
		if f.window > 1 {
			// Batches in flight together overtook each other. (With one
			// in flight, a gap comes from elsewhere.)
			p.s.c.lowerMaxInFlight(f.window - 1)
		}
		f.window = 1
	} else if r.err == nil && f.window < min(p.o.MaxInFlight, p.s.c.maxInFlight()) && len(p.queue) > 0 {
		f.window++
	}
	var de *Error
	switch {
	case r.err == nil:
		f.claims = 0
		p.settle(r.b, r.res, nil)
		if r.b.epoch == p.Epoch() {
			f.confirmed = true
		}
	case p.o.AutoClaim && errors.As(r.err, &de) && (de.Kind == ErrStaleEpoch || de.Kind == ErrEpochInUse && !f.confirmed):
		// An epoch in use is claimed only when it is met on the epoch's
		// first batch, which goes alone: a later batch in flight beside
		// it could have been stored after the other writer's.
		if f.claims >= maxClaims {
			e := *de
			e.Err = fmt.Errorf("gave up after taking %d epochs in a row for producer ID %q, each refused before a batch was acknowledged (the server refuses every epoch, or another writer keeps taking newer ones): %w", f.claims, p.o.ID, de.Err)
			p.fail(&e)
			break
		}
		f.claiming, f.confirmed = true, false
		f.serverEpoch = max(f.serverEpoch, de.ServerEpoch)
		f.resend = append(f.resend, r.b)
	default:
		p.fail(r.err)
	}
	if f.claiming && f.inFlight == 0 {
		// Every batch in flight is back: take the next epoch and send the
		// refused ones again, in order, the first alone.
		p.mu.Lock()
		p.epoch = max(p.epoch, f.serverEpoch) + 1
		p.mu.Unlock()
		f.seq = 0
		f.claiming = false
		f.claims++
		sortBatches(f.resend)
	}
	return p.next()
}

// drainQueue fails the queued batches with ErrProducerClosed once the
// producer stopped (p.flightMu held).
func (p *Producer) drainQueue() {
	for {
		select {
		case b := <-p.queue:
			p.settle(b, nil, &Error{Op: "append", Path: p.s.path, Kind: ErrProducerClosed})
		default:
			return
		}
	}
}

// sortBatches orders batches as they were queued.
func sortBatches(bs []*batch) {
	slices.SortFunc(bs, func(a, b *batch) int { return cmp.Compare(a.n, b.n) })
}

// send makes one attempt of b (the runtime retries transient failures: the
// producer headers make the append safe to repeat). A sequence gap while
// the predecessor is still in flight is retried once that attempt is over.
func (p *Producer) send(b *batch) outcome {
	params := durablestreams.AppendParams{
		ProducerID:    runtime.Some(p.o.ID),
		ProducerEpoch: runtime.Some(b.epoch),
		ProducerSeq:   runtime.Some(b.seq),
	}
	if len(b.body) > 0 {
		params.ContentType = runtime.Some(p.ct)
	}
	op := "append"
	if b.close {
		op = "close"
		params.StreamClosed = runtime.Some(durablestreams.ClosedFlagTrue)
	}
	once, wrote, prevAttempt := b.wroteOnce, b.wrote, b.prevAttempt
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		WroteHeaders: func() {
			// Before the body, so before any answer can come back, over
			// HTTP/1 and HTTP/2 alike.
			b.writes.Add(1)
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			once.Do(func() { close(wrote) })
			// With a window above one, the next batch may start now.
			p.pump()
		},
	})
	for gaps := 0; ; gaps++ {
		res, err := p.s.c.api.Append(ctx, p.s.path, params, bytes.NewBuffer(b.body), runtime.WithRetrySafe())
		if err == nil && p.foreignDuplicate(b, res) {
			return outcome{b: b, err: &Error{Op: op, Path: p.s.path, Kind: ErrEpochInUse, StatusCode: res.StatusCode, ServerEpoch: b.epoch,
				Err: fmt.Errorf("producer %q, epoch %d, seq %d: the server already holds a batch under this epoch and sequence number; start a restarted producer with a higher epoch, or with AutoClaim", p.o.ID, b.epoch, b.seq)}}
		}
		if err == nil {
			return outcome{b: b, res: res, gap: gaps > 0}
		}
		err = newError(op, p.s.path, err)
		var de *Error
		if errors.As(err, &de) && de.Kind == ErrSequenceGap && de.ExpectedSeq < b.seq && gaps < 3 && prevAttempt != nil {
			// The predecessor has not landed yet: wait for its attempt.
			<-prevAttempt
			prevAttempt = nil
			continue
		}
		return outcome{b: b, err: err, gap: gaps > 0}
	}
}

// foreignDuplicate reports whether res, a success, answers b as a
// duplicate that cannot be b's own earlier attempt: another writer used
// b's epoch and sequence number, and b was not stored. The server answers
// a stored batch with data with 200 and a duplicate with 204, so a 204 to
// a batch with data whose request was written once tells. A close without
// data is answered 204 either way; its answer tells only when the
// sequence number the server echoes is past b's, which none of the
// producer's batches, all sent before its close, can have caused.
func (p *Producer) foreignDuplicate(b *batch, res *durablestreams.AppendResult) bool {
	if res.StatusCode != http.StatusNoContent {
		return false
	}
	if len(b.body) > 0 {
		return b.writes.Load() == 1
	}
	seq, ok := res.ProducerSeq.Get()
	return b.close && ok && seq > b.seq
}

// settle records the outcome of b. An acknowledged batch's predecessors
// are all settled (the server accepts a producer's batches in order), so
// the link to them is dropped.
func (p *Producer) settle(b *batch, res *durablestreams.AppendResult, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && res != nil {
		if off, ok := res.StreamNextOffset.Get(); ok {
			b.offset = off
			if off > p.offset {
				p.offset = off
			}
		} else {
			b.offset = p.offset
		}
		b.prev = nil
		// A closing batch's body may be the caller's final message, which
		// is not the producer's to reuse.
		if body := b.body; !b.close && cap(body) > 0 && cap(body) <= 2*p.o.MaxBatchBytes+2 {
			b.body = nil
			p.s.c.bodies.Put(&body)
		}
	}
	p.finish(b, err)
}

// finish closes b.done once, with err (p.mu held).
func (p *Producer) finish(b *batch, err error) {
	if b.over {
		return
	}
	b.over = true
	if b.err == nil {
		b.err = err
	}
	close(b.done)
}

// fail ends the producer with err: every batch not yet acknowledged fails
// with it.
func (p *Producer) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
	for b := p.last; b != nil; b = b.prev {
		p.finish(b, err)
	}
}
