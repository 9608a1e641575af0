package projection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"slices"
	"sync"
	"time"

	"github.com/allsource-go/allsource/allsource"
	"github.com/allsource-go/allsource/gen/core"
	"github.com/allsource-go/allsource/runtime"
)

// Defaults for Config. DefaultCheckpointEvents bounds what a restart
// replays; it is not a cadence to keep small. A checkpoint is a durable
// write (a file and its directory synced: milliseconds), and a catch-up
// applies hundreds of thousands of events a second, so with a bound of
// 10,000 events the worker applied its allowance in about the time one
// save took and then waited for the disk. 100,000 events replay in a
// fraction of a second.
const (
	DefaultCheckpointEvents = 100_000
	DefaultCheckpointPeriod = 5 * time.Second
	DefaultPushPeriod       = 5 * time.Second
	DefaultStallTimeout     = 5 * time.Second
)

// ErrSnapshotBehind is matched by the error Start returns when Core's cursor
// for the consumer is ahead of the worker's snapshot (or there is no
// snapshot): Core would not replay the events in between, so the state
// would silently miss them. Restore the snapshot, or start over under a new
// consumer name.
var ErrSnapshotBehind = errors.New("projection: consumer cursor is ahead of the snapshot")

// ErrEventTypesChanged is matched by the error Start returns when the
// snapshot was folded with other event types than the config names: Core
// would replay only the events after the snapshot, so the state would lack
// the earlier events of an added type (or keep those of a removed one).
// Start a new consumer name to fold with the new types.
var ErrEventTypesChanged = errors.New("projection: event types differ from the snapshot's")

// ErrInvalidConfig is matched by the error Start returns for a Config it
// refuses: a missing required field, or a value that makes no sense (a
// negative count, a duration under a millisecond).
var ErrInvalidConfig = errors.New("projection: invalid config")

// ErrStopped is returned by WaitCaughtUp when the worker stopped cleanly
// before catching up.
var ErrStopped = errors.New("projection: worker stopped")

// Config configures a worker over state of type S. S must round-trip
// through encoding/json.
type Config[S any] struct {
	// Name is the durable consumer name; Core keeps its cursor. Required.
	Name string
	// EventTypes are the consumer's event-type filters: exact types
	// ("asset.registered") or prefix patterns ("asset.*"). None means every
	// type.
	EventTypes []string
	// Reducer folds one event into the state. Required.
	Reducer Reducer[S]
	// Initial returns the state before any event; nil means the zero S.
	Initial func() S
	// Store keeps the snapshots. Required: without a durable snapshot the
	// consumer's cursor could not be acknowledged.
	Store SnapshotStore
	// CheckpointEvents, a number of events, bounds the events applied but
	// not yet in a durable snapshot, which is what a restart replays (plus,
	// while live, what arrived during CheckpointPeriod); default
	// DefaultCheckpointEvents. A checkpoint (snapshot of the changes,
	// save, then acknowledgement) is started every quarter CheckpointEvents
	// events. The save runs while the worker goes on applying; a
	// checkpoint that falls due while the previous one is still being
	// saved is taken once that save is over, and covers every change since
	// the previous one. The worker waits for a save only when the events
	// not yet durable reach CheckpointEvents.
	CheckpointEvents int
	// CheckpointPeriod, a duration, is the longest time between
	// checkpoints while events arrive; default DefaultCheckpointPeriod.
	// Durations under a millisecond are refused: 100 here is 100 ns, not
	// 100 events.
	CheckpointPeriod time.Duration
	// Push, when set, pushes reduced state to Core's projection store.
	Push *Push[S]
	// MinBackoff and MaxBackoff bound the reconnection delay; defaults
	// DefaultMinBackoff and DefaultMaxBackoff. The delay doubles after each
	// failed attempt, is jittered, and starts over after a connection that
	// caught up.
	MinBackoff, MaxBackoff time.Duration
	// StallTimeout is how long an event may stay missing from the live
	// stream while later events arrive before the worker treats it as lost
	// and rebuilds from its last snapshot; default DefaultStallTimeout.
	StallTimeout time.Duration
	// Partition makes the worker one partition of a projection split by
	// entity; the zero value is the whole projection.
	Partition Partition
	// Poison says what the worker does when its reducer fails on an event
	// (an error or a panic); the zero value stops the worker.
	Poison PoisonPolicy
	// OnError, when set, is called with each error the worker meets: the
	// transient ones it recovers from (a dropped connection, a failed
	// acknowledgement, a failed save) and the one it stops with. It runs on
	// the worker's goroutine, so it must not block or call the handle's
	// Stop or Drain; a panic in it is recovered and logged.
	OnError func(err error)
	// Logger receives the worker's log; nil means slog.Default().
	Logger *slog.Logger
}

// Push configures pushing reduced state to Core's projection store.
type Push[S any] struct {
	// Projection is the projection name in Core's store; default the
	// consumer name.
	Projection string
	// Entities returns the entries to push, given the ids of the entities
	// that had events applied since the last push. It runs on the worker's
	// goroutine and must not keep state.
	Entities func(state S, touched []string) []EntityState
	// Events pushes after this many applied events; 0 pushes on the
	// period only.
	Events int
	// Period, a duration, is the longest time between pushes while events
	// arrive; default DefaultPushPeriod.
	Period time.Duration
}

// EntityState is one entry of Core's projection store.
type EntityState struct {
	// EntityID is the entry's key within the projection.
	EntityID string
	// State is encoded with encoding/json.
	State any
}

type worker[S any] struct {
	cfg       Config[S]
	api       coreAPI
	eng       *engine[S]
	log       *slog.Logger
	bo        *backoff
	filters   []string
	projName  string
	now       func() time.Time
	ctx       context.Context // canceled when the worker must give up at once
	cancel    context.CancelFunc
	done      chan struct{}
	stopping  chan struct{}
	stopOnce  sync.Once
	caughtUp  chan struct{}
	caughtOne sync.Once

	replays chan replayRequest // ReplayDeadLetters to the driver

	// group and member are set for a partition that shares its stream
	// with the other partitions of its process.
	group  *group
	member *member

	drain bool // set before stopping closes: apply what was received
	mu    sync.Mutex
	err   error // the error the worker stopped with

	// Driver-only fields.
	savedPos     int64
	needRollback bool // events were missed; the state must be reloaded
	// syncStore is set when Save must run on the driver: it commits the
	// state (the database mode), so no event may be applied meanwhile.
	syncStore    bool
	acked        int64
	saving       bool            // a persist goroutine is running
	saveDone     chan saveResult // its result
	lastCkpt     time.Time
	lastPush     time.Time
	sincePush    int
	pollLimit    int
	maxPollLimit int
	ckptStep     int // events between checkpoints
	inflight     int // events the snapshot being saved took in, not yet durable
	// ckptPending is set when a checkpoint fell due while the previous
	// one was being saved: it is taken once that save is over.
	ckptPending bool
}

// start validates cfg, registers the consumer, loads the snapshot and
// starts the worker's goroutine.
func start[S any](ctx context.Context, api coreAPI, cfg Config[S]) (*Handle[S], error) {
	return startWith(ctx, api, cfg, nil)
}

// startWith is start with a setup of the worker before it loads its
// snapshot.
func startWith[S any](ctx context.Context, api coreAPI, cfg Config[S], setup func(*worker[S])) (*Handle[S], error) {
	if err := normalize(&cfg); err != nil {
		return nil, err
	}
	if err := checkLayout(ctx, cfg.Store, cfg.Name, cfg.Partition.Count); err != nil {
		return nil, err
	}
	projName := cfg.Name // partitions push into one projection
	cfg.Name = cfg.Partition.consumer(cfg.Name)
	w := &worker[S]{
		cfg:      cfg,
		api:      api,
		eng:      newEngine(cfg.Name, cfg.Reducer, cfg.Initial, cfg.EventTypes),
		log:      cfg.Logger.With("consumer", cfg.Name),
		bo:       newBackoff(cfg.MinBackoff, cfg.MaxBackoff),
		filters:  streamFilters(cfg.EventTypes),
		projName: projName,
		now:      time.Now,
		done:     make(chan struct{}),
		stopping: make(chan struct{}),
		saveDone: make(chan saveResult, 1),
		caughtUp: make(chan struct{}),
		replays:  make(chan replayRequest),
	}
	w.eng.stallTimeout = cfg.StallTimeout
	w.eng.part = cfg.Partition
	if cfg.Poison.Retries > 0 || cfg.Poison.Action == PoisonSkip {
		w.eng.poisoned = w.poisoned
	}
	if cfg.Push != nil {
		w.eng.trackTouched = true
		if cfg.Push.Projection != "" {
			w.projName = cfg.Push.Projection
		}
	}
	if setup != nil {
		setup(w)
	}
	// A checkpoint every quarter CheckpointEvents, or later while the
	// previous one is being saved (see handle); the database mode commits
	// on the worker's goroutine, every half.
	w.ckptStep = max(cfg.CheckpointEvents/4, 1)
	if w.syncStore {
		w.ckptStep = max(cfg.CheckpointEvents/2, 1)
	}
	// A live checkpoint reads the consumer's pending events, at first up to
	// twice CheckpointEvents but no more than 20,000 at once, then twice
	// as many while more are needed, up to twice CheckpointEvents (and at
	// least 100,000).
	w.maxPollLimit = max(2*cfg.CheckpointEvents, 100_000)
	w.pollLimit = max(min(2*cfg.CheckpointEvents, 20_000), 1000)

	snap, found, err := cfg.Store.Load(ctx, cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("projection: consumer %q: %w", cfg.Name, err)
	}
	if found {
		got := slices.Clone(snap.EventTypes)
		slices.Sort(got)
		if !slices.Equal(slices.Compact(got), w.eng.types) {
			return nil, fmt.Errorf("%w: consumer %q was folded with %q, the config names %q",
				ErrEventTypesChanged, cfg.Name, snap.EventTypes, cfg.EventTypes)
		}
		if err := w.eng.restore(snap, true); err != nil {
			return nil, fmt.Errorf("projection: consumer %q: %w", cfg.Name, err)
		}
		w.savedPos = snap.Position
	}
	// Registering replaces the consumer's filters, so it comes after the
	// snapshot's event types were checked.
	cursor, err := api.register(ctx, cfg.Name, cfg.EventTypes)
	if err != nil {
		return nil, fmt.Errorf("projection: register consumer %q: %w", cfg.Name, err)
	}
	if cursor > w.savedPos {
		what := fmt.Sprintf("the snapshot covers position %d", w.savedPos)
		if !found {
			what = "there is no snapshot"
		}
		return nil, fmt.Errorf("%w: consumer %q has acknowledged position %d but %s", ErrSnapshotBehind, cfg.Name, cursor, what)
	}
	w.acked = cursor
	w.eng.stats.acked.Store(cursor)
	w.lastCkpt, w.lastPush = w.now(), w.now()
	w.log.Info("projection worker starting", "position", w.savedPos, "cursor", cursor, "snapshot", found)
	// ctx governs the start only: the worker runs until Stop (or a fatal
	// error), whatever becomes of ctx.
	w.ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go w.run()
	return &Handle[S]{w: w}, nil
}

func normalize[S any](cfg *Config[S]) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case cfg.Name == "":
		return bad("Name is required")
	case cfg.Reducer == nil:
		return bad("Reducer is required")
	case cfg.Store == nil:
		return bad("Store is required")
	case cfg.Push != nil && cfg.Push.Entities == nil:
		return bad("Push.Entities is required when Push is set")
	case cfg.Poison.Retries < 0:
		return bad("Poison.Retries is %d; it must not be negative", cfg.Poison.Retries)
	case cfg.Poison.Action != PoisonStop && cfg.Poison.Action != PoisonSkip:
		return bad("Poison.Action %d is not PoisonStop or PoisonSkip", cfg.Poison.Action)
	case cfg.Poison.Action == PoisonSkip && cfg.Poison.DeadLetters == nil:
		return bad("Poison.DeadLetters is required with PoisonSkip")
	case cfg.Partition.Count < 0 || cfg.Partition.Count > 1 && (cfg.Partition.Index < 0 || cfg.Partition.Index >= cfg.Partition.Count):
		return bad("Partition %d of %d does not exist", cfg.Partition.Index, cfg.Partition.Count)
	case cfg.CheckpointEvents < 0:
		return bad("CheckpointEvents is %d; it must not be negative", cfg.CheckpointEvents)
	case cfg.Push != nil && cfg.Push.Events < 0:
		return bad("Push.Events is %d; it must not be negative", cfg.Push.Events)
	}
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"CheckpointPeriod", cfg.CheckpointPeriod}, {"MinBackoff", cfg.MinBackoff}, {"MaxBackoff", cfg.MaxBackoff},
		{"StallTimeout", cfg.StallTimeout}, {"Poison.MinBackoff", cfg.Poison.MinBackoff}, {"Poison.MaxBackoff", cfg.Poison.MaxBackoff},
	}
	if cfg.Push != nil {
		durations = append(durations, struct {
			name string
			d    time.Duration
		}{"Push.Period", cfg.Push.Period})
	}
	for _, d := range durations {
		switch {
		case d.d < 0:
			return bad("%s is %v; it must not be negative", d.name, d.d)
		case d.d > 0 && d.d < time.Millisecond:
			return bad("%s is %v, under a millisecond: it is a duration (write 100*time.Millisecond), not a count of events", d.name, d.d)
		}
	}
	if cfg.MaxBackoff > 0 && cfg.MinBackoff > cfg.MaxBackoff {
		return bad("MinBackoff %v is above MaxBackoff %v", cfg.MinBackoff, cfg.MaxBackoff)
	}
	for _, f := range cfg.EventTypes {
		if err := allsource.ValidateFilter(f); err != nil {
			return fmt.Errorf("%w: EventTypes: %w", ErrInvalidConfig, err)
		}
	}
	if cfg.Initial == nil {
		var zero S
		if ks, ok := any(zero).(keyedState); ok {
			// A nil *Map: start from an empty one.
			cfg.Initial = func() S { return ks.fresh().(S) }
		} else {
			cfg.Initial = func() S { return zero }
		}
	}
	if cfg.CheckpointEvents == 0 {
		cfg.CheckpointEvents = DefaultCheckpointEvents
	}
	if cfg.CheckpointPeriod == 0 {
		cfg.CheckpointPeriod = DefaultCheckpointPeriod
	}
	if cfg.Push != nil && cfg.Push.Period == 0 {
		p := *cfg.Push
		p.Period = DefaultPushPeriod
		cfg.Push = &p
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.Poison.MinBackoff == 0 {
		cfg.Poison.MinBackoff = DefaultPoisonMinBackoff
	}
	if cfg.Poison.MaxBackoff == 0 {
		cfg.Poison.MaxBackoff = max(DefaultPoisonMaxBackoff, cfg.Poison.MinBackoff)
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return nil
}

// errStopping ends a session because Stop was called.
var errStopping = errors.New("projection: stopping")

// errLagged ends a session because Core dropped live events.
var errLagged = errors.New("projection: the stream lagged and events were dropped")

// run is the worker's goroutine: sessions with backoff between them, then
// the final checkpoint.
func (w *worker[S]) run() {
	defer close(w.done)
	defer w.cancel()
	if w.group != nil {
		defer w.group.leave(w.member)
	}
	for {
		var err error
		if w.needRollback {
			err = w.rollback()
		} else {
			err = w.session()
		}
		switch {
		case errors.Is(err, errStopping):
			w.finish()
			return
		case w.ctx.Err() != nil:
			w.fail(fmt.Errorf("projection: consumer %q abandoned: %w", w.cfg.Name, context.Cause(w.ctx)))
			return
		case isFatal(err):
			w.log.Error("projection worker stopped", "err", err)
			w.fail(err)
			return
		case errors.Is(err, errGap), errors.Is(err, errLagged):
			w.log.Warn("events were missed; rebuilding from the last snapshot", "err", err, "position", w.savedPos)
			w.needRollback = true
			w.eng.stats.caughtUp.Store(false)
			if rerr := w.rollback(); rerr != nil {
				err = rerr
			}
		}
		if err != nil {
			w.setLastErr(err)
		}
		d := w.bo.next()
		w.log.Info("reconnecting", "in", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-w.stopping:
			t.Stop()
			w.finish()
			return
		case <-w.ctx.Done():
			t.Stop()
		}
	}
}

// rollback returns to the last durable snapshot, read from the store,
// dropping every event applied after it. The store keeps the snapshot as
// a base and deltas, so the worker holds no copy of it in memory.
func (w *worker[S]) rollback() error {
	snap, found, err := w.cfg.Store.Load(w.ctx, w.cfg.Name)
	if err != nil {
		return fmt.Errorf("projection: consumer %q: reload snapshot: %w", w.cfg.Name, err)
	}
	if found && snap.Position < w.savedPos {
		return fmt.Errorf("projection: consumer %q: the store returned a snapshot at position %d, older than the one saved at %d", w.cfg.Name, snap.Position, w.savedPos)
	}
	if err := w.eng.restore(snap, found); err != nil {
		return fmt.Errorf("projection: consumer %q: %w", w.cfg.Name, err)
	}
	w.eng.stats.recoveries.Add(1)
	w.needRollback = false
	return nil
}

func isFatal(err error) bool {
	var re *ReducerError
	return errors.As(err, &re) || errors.Is(err, ErrConcurrentWorker)
}

// session runs one stream connection until it ends.
func (w *worker[S]) session() error {
	if w.group != nil {
		return w.groupSession()
	}
	st, err := w.api.connect(w.ctx, w.cfg.Name, w.filters)
	if err != nil {
		return fmt.Errorf("projection: connect: %w", err)
	}
	w.eng.stats.connects.Add(1)
	rctx, cancel := context.WithCancel(w.ctx)
	batches, free, wait := startDecoding(rctx, st)
	defer func() {
		cancel()
		_ = st.close()
		wait()
		w.waitSave()
	}()
	return w.consume(batches, free)
}

// startDecoding starts the first two of a session's three stages: read
// frames from st on one goroutine, decode them on decoders(); the caller
// applies them, so that decoding and applying overlap. Decoding a frame
// costs several times what applying its event does, so one decoder would
// set the pace: the batches are decoded by several goroutines in parallel
// (batch i by decoder i mod n), and a merger hands them on in the stream's
// order. Decoded batches go back through free once applied, so that their
// frames are not allocated (and scanned by the collector) anew. The last
// batch of the stream carries its error; when ctx ends first, the stages
// stop without one. decoded is never closed. wait returns once every stage
// is done: cancel ctx and close st first.
func startDecoding(ctx context.Context, st stream) (decoded <-chan decodedBatch, free chan []frame, wait func()) {
	return startDecodingN(ctx, st, decoders())
}

// maxDecoders bounds the goroutines that decode a session's frames: past
// a few, the one goroutine that applies the events sets the pace.
const maxDecoders = 4

// decoders returns the number of goroutines that decode a session's
// frames: one per core, up to maxDecoders.
func decoders() int { return max(1, min(goruntime.GOMAXPROCS(0), maxDecoders)) }

// startDecodingN is startDecoding with n decoders.
func startDecodingN(ctx context.Context, st stream, n int) (decoded <-chan decodedBatch, free chan []frame, wait func()) {
	out := make(chan decodedBatch, 64)
	free = make(chan []frame, 64)
	raws := make([]chan frameBatch, n)
	for i := range raws {
		raws[i] = make(chan frameBatch, max(64/n, 8))
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() {
			for _, raw := range raws {
				close(raw)
			}
		}()
		readFrames(ctx, st, raws)
	})
	if n == 1 {
		wg.Go(func() { decodeBatches(ctx, raws[0], out, free) })
		return out, free, wg.Wait
	}
	outs := make([]chan decodedBatch, n)
	for i := range outs {
		outs[i] = make(chan decodedBatch, max(64/n, 8))
		wg.Go(func() {
			defer close(outs[i])
			decodeBatches(ctx, raws[i], outs[i], free)
		})
	}
	wg.Go(func() { mergeBatches(ctx, outs, out) })
	return out, free, wg.Wait
}

// mergeBatches hands on the batches of the decoders' outs in the order the
// reader dealt them (batch i to outs[i mod len(outs)]), until the batch
// that ends the stream, or until a decoder stops or ctx is done.
func mergeBatches(ctx context.Context, outs []chan decodedBatch, out chan<- decodedBatch) {
	for i := 0; ; i = (i + 1) % len(outs) {
		var d decodedBatch
		var ok bool
		select {
		case d, ok = <-outs[i]:
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		select {
		case out <- d:
		case <-ctx.Done():
			return
		}
		if d.err != nil || d.malformed != nil {
			return // the end of the stream
		}
	}
}

// consume applies the decoded batches of a session until it ends: by an
// error, a stop, or the end of the stream (a batch with an error).
// Applied batches go back through free.
func (w *worker[S]) consume(batches <-chan decodedBatch, free chan<- []frame) error {
	tick := w.cfg.CheckpointPeriod
	if w.cfg.Push != nil {
		tick = min(tick, w.cfg.Push.Period)
	}
	ticker := time.NewTicker(max(tick/2, time.Millisecond))
	defer ticker.Stop()
	// handleBatches applies a batch, then every batch already waiting, so
	// that the select below runs only when the worker has caught up with
	// the reader.
	handleBatches := func(b decodedBatch, checkpoints bool) error {
		for {
			w.eng.prefetch(b.frames)
			for i := range b.frames {
				if err := w.handle(&b.frames[i], checkpoints); err != nil {
					return err
				}
			}
			// The reducer got copies of the events: the batch can go back.
			clear(b.frames)
			select {
			case free <- b.frames[:0]:
			default:
			}
			if b.malformed != nil {
				return b.malformed
			}
			if b.err != nil {
				if !checkpoints {
					return errStopping
				}
				return fmt.Errorf("projection: stream: %w", b.err)
			}
			select {
			case b = <-batches:
			default:
				return nil
			}
		}
	}
	for {
		select {
		case <-w.stopping:
			if !w.drain {
				return errStopping
			}
			// Drain: apply what has already been received.
			select {
			case b := <-batches:
				if err := handleBatches(b, false); err != nil {
					return err
				}
			default:
			}
			return errStopping
		case <-w.ctx.Done():
			return w.ctx.Err()
		case r := <-w.saveDone:
			w.onSaved(r)
			if w.ckptPending {
				if err := w.checkpoint(w.ctx); err != nil {
					return err
				}
			}
		case req := <-w.replays:
			n, err := w.replayDeadLetters(req.ctx)
			req.reply <- replayResult{n, err}
			if errors.Is(err, errGap) {
				return err
			}
		case <-ticker.C:
			if err := w.onTick(); err != nil {
				return err
			}
		case b := <-batches:
			if err := handleBatches(b, true); err != nil {
				return err
			}
		}
	}
}

// groupSession runs one session of the worker's partition group: the
// group reads and decodes the stream and hands the worker its events.
func (w *worker[S]) groupSession() error {
	f, err := w.group.join(w.ctx, w.member, w.savedPos, w.stopping)
	if err != nil {
		return err
	}
	w.eng.stats.connects.Add(1)
	err = w.consume(f.batches, f.free)
	w.waitSave()
	// A stop or a fatal error leaves the others' session running; any
	// other error needs a new connection, for every partition.
	f.leave(!errors.Is(err, errStopping) && !isFatal(err) && w.ctx.Err() == nil)
	return err
}

// decodedBatch is a frameBatch decoded: its frames, then the error that
// ended the stream, or the error of a malformed frame (after which the
// session ends).
type decodedBatch struct {
	frames    []frame
	err       error
	malformed error
}

// decodeBatches decodes the batches of raw until it is closed or ctx is
// done, and stops after a malformed frame. It decodes with the generated
// frame decoder, in place: into one value reused from frame to frame, with
// the strings that repeat (event types, tenants, entity ids) interned, and
// payloads and metadata left in the frames, which the worker owns.
func decodeBatches(ctx context.Context, raw <-chan frameBatch, out chan<- decodedBatch, free <-chan []frame) {
	var in runtime.Interner
	r := runtime.JSONReader{Strings: in.String, Alias: true}
	var v core.StreamFrameValue
	for b := range raw {
		d := decodedBatch{err: b.err}
		select {
		case fs := <-free:
			if cap(fs) >= len(b.frames) {
				d.frames = fs
			}
		default:
		}
		if d.frames == nil {
			d.frames = make([]frame, 0, max(len(b.frames), 16))
		}
		for _, data := range b.frames {
			d.frames = append(d.frames, frame{})
			f := &d.frames[len(d.frames)-1]
			if err := core.DecodeStreamFrameInto(&r, data, &v); err != nil {
				d.frames = d.frames[:len(d.frames)-1]
				d.err, d.malformed = nil, fmt.Errorf("projection: %w", err)
				break
			}
			setFrame(f, &v)
			if f.kind == 0 {
				d.frames = d.frames[:len(d.frames)-1] // a frame type from a newer server
			}
		}
		select {
		case out <- d:
		case <-ctx.Done():
			return
		}
		if d.malformed != nil {
			return
		}
	}
}

// setFrame sets *f to the frame v holds; a frame of a type from a newer
// server gives the zero frame, which the worker ignores. Core sends
// positions with replayed events only.
func setFrame(f *frame, v *core.StreamFrameValue) {
	switch v.Kind {
	case core.StreamFrameKindReplay:
		*f = frame{kind: frameReplay, position: v.Replay.Position, event: Event{Event: v.Replay.Event}}
	case core.StreamFrameKindReplayComplete:
		*f = frame{kind: frameReplayComplete, replayed: v.ReplayComplete.Replayed}
	case core.StreamFrameKindLagged:
		*f = frame{kind: frameLagged, missed: v.Lagged.Missed}
	case core.StreamFrameKindEvent:
		*f = frame{kind: frameLive, event: Event{Event: v.Event.Event}}
	case core.StreamFrameKindEventBatch:
		batch := make([]Event, len(v.EventBatch.EventBatch))
		for i := range batch {
			batch[i].Event = v.EventBatch.EventBatch[i]
		}
		*f = frame{kind: frameLive, batch: batch}
	default:
		*f = frame{}
	}
}

// frameBatch is frames read in a row, undecoded, then possibly the error
// that ended the stream.
type frameBatch struct {
	frames [][]byte
	err    error
}

// maxBatch bounds the frames the reader groups into one batch.
const maxBatch = 256

// replayPrefix starts every replay frame Core sends. Frames that start
// otherwise are never held back, so a replay frame that does not is merely
// sent at once.
var replayPrefix = []byte(`{"type":"replay",`)

func isReplayFrame(data []byte) bool { return bytes.HasPrefix(data, replayPrefix) }

// readFrames reads frames into batches until the stream fails, and deals
// them in turn to the decoders' channels (batch i to batches[i mod n]). It
// leaves the decoding to other goroutines, so that reading and decoding run
// in parallel. Handing frames over one by one costs a wake-up of a decoder
// each when it keeps up, so replay frames are grouped while the decoder is
// busy: a replay frame is always followed by more (the replay_complete
// sentinel at least), so holding one back never delays it for long. Any
// other frame is sent at once, so live events are never held back.
func readFrames(ctx context.Context, st stream, batches []chan frameBatch) {
	next := 0
	send := func(b frameBatch) bool {
		ch := batches[next]
		next = (next + 1) % len(batches)
		select {
		case ch <- b:
			return true
		default:
		}
		select {
		case ch <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var batch [][]byte
	for {
		data, err := st.next(ctx)
		if err != nil {
			send(frameBatch{frames: batch, err: err})
			return
		}
		if batch == nil {
			n := 16
			if isReplayFrame(data) {
				n = maxBatch // replay frames come in batches of up to that many
			}
			batch = make([][]byte, 0, n)
		}
		batch = append(batch, data)
		if isReplayFrame(data) && len(batch) < maxBatch && len(batches[next]) > 0 {
			continue
		}
		if !send(frameBatch{frames: batch}) {
			return
		}
		batch = nil
	}
}

// handle applies one frame; checkpoints are taken when due unless
// draining.
func (w *worker[S]) handle(f *frame, checkpoints bool) error {
	switch f.kind {
	case frameReplay:
		if err := w.eng.replay(f.position, &f.event); err != nil {
			return err
		}
		w.sincePush++
	case frameLive:
		if f.batch == nil {
			if err := w.eng.live(&f.event); err != nil {
				return err
			}
			w.sincePush++
			break
		}
		for i := range f.batch {
			if err := w.eng.live(&f.batch[i]); err != nil {
				return err
			}
		}
		w.sincePush += len(f.batch)
	case frameReplayComplete:
		if !checkpoints {
			return nil
		}
		if err := w.checkpoint(w.ctx); err != nil {
			return err
		}
		w.pushNow(w.ctx)
		w.bo.reset()
		w.eng.stats.caughtUp.Store(true)
		w.caughtOne.Do(func() { close(w.caughtUp) })
		w.log.Info("caught up", "replayed", f.replayed, "position", w.eng.confirmed)
		return nil
	case frameLagged:
		return fmt.Errorf("%w: %d events missed", errLagged, f.missed)
	case frameCovered:
		w.eng.covered(f.position)
		return nil
	default:
		return nil
	}
	if !checkpoints {
		return nil
	}
	if w.eng.progress >= w.ckptStep || w.ckptPending || w.saving && w.eng.uncaptured+w.inflight >= w.cfg.CheckpointEvents {
		// A checkpoint is due, or the events not yet durable reached the
		// bound (which a checkpoint taken by time puts anywhere between
		// two steps): checkpointDue waits for the save then.
		if err := w.checkpointDue(); err != nil {
			return err
		}
	}
	if p := w.cfg.Push; p != nil && p.Events > 0 && w.sincePush >= p.Events {
		w.pushNow(w.ctx)
	}
	return nil
}

// checkpointDue takes the checkpoint that is due, unless the previous one
// is still being saved: then the worker goes on applying, and the changes
// wait for the next checkpoint, taken once the save is over, which covers
// everything since the last one (the changes coalesce). Only when the
// events not yet durable reach CheckpointEvents does it wait for the save.
func (w *worker[S]) checkpointDue() error {
	if w.saving {
		select {
		case r := <-w.saveDone:
			w.onSaved(r)
		default:
		}
	}
	if w.saving && w.eng.uncaptured+w.inflight < w.cfg.CheckpointEvents {
		w.ckptPending = true
		return nil
	}
	return w.checkpoint(w.ctx)
}

// onTick takes a checkpoint and a push when their intervals have passed.
func (w *worker[S]) onTick() error {
	now := w.now()
	if now.Sub(w.lastCkpt) >= w.cfg.CheckpointPeriod && (w.eng.progress > 0 || !w.eng.exact() || w.eng.confirmed > w.savedPos) {
		if err := w.checkpointDue(); err != nil {
			return err
		}
	}
	if p := w.cfg.Push; p != nil && now.Sub(w.lastPush) >= p.Period {
		w.pushNow(w.ctx)
	}
	return nil
}

// checkpoint confirms the positions of live events when needed and, when
// the state is exact and ahead of the last snapshot, takes a snapshot and
// hands it to a goroutine that saves it and then acknowledges its position,
// while the worker goes on applying events (a durable save takes
// milliseconds). One save is in flight at a time: a checkpoint first waits
// for the previous one, so checkpoints that fall due while applying go
// through checkpointDue, which waits only so that the events in the
// snapshot being saved and those applied since never exceed
// CheckpointEvents: at most that many events are not yet in a durable
// snapshot, which is what a restart replays. Failures of Core or the
// store are logged and retried at the next checkpoint; only a detected gap
// is returned.
func (w *worker[S]) checkpoint(ctx context.Context) error {
	w.lastCkpt = w.now()
	w.ckptPending = false
	w.eng.progress = 0
	w.waitSave()
	if err := w.confirmLive(ctx); err != nil {
		if errors.Is(err, errGap) {
			return err
		}
		w.transient("read pending events", err)
		return nil
	}
	if !w.eng.exact() {
		return nil
	}
	if w.syncStore {
		if w.eng.confirmed > w.savedPos {
			if err := w.save(ctx); err != nil {
				if isFatal(err) {
					return err
				}
				w.transient("commit", err)
				return nil
			}
		} else {
			w.eng.uncaptured = 0 // the state is exact at the committed position
		}
		if w.savedPos > w.acked {
			w.saving = true
			pos := w.savedPos
			go func() { w.saveDone <- w.persist(ctx, nil, pos) }()
		}
		return nil
	}
	var c *capture
	switch {
	case w.eng.confirmed > w.savedPos:
		var err error
		if c, err = w.eng.capture(w.now()); err != nil {
			w.transient("snapshot", err)
			return nil
		}
	case w.savedPos > w.acked:
		// Saved, but the acknowledgement failed: acknowledge again.
		w.eng.uncaptured = 0 // the state is exact at the durable snapshot
	default:
		w.eng.uncaptured = 0 // the state is exact at the durable snapshot
		return nil
	}
	w.saving = true
	w.inflight = 0
	if c != nil {
		// The events the snapshot takes in stay not yet durable until it
		// is saved; those received from now on are counted anew.
		w.inflight, w.eng.uncaptured = w.eng.uncaptured, 0
	}
	pos := w.savedPos
	if c != nil {
		pos = c.s.Position
	}
	encoded := savesEncoded(w.cfg.Store)
	go func() {
		var snap *Snapshot
		if c != nil {
			// The snapshot is built here, not on the worker's goroutine:
			// the capture is the worker's alone no more.
			s := c.build(encoded)
			snap = &s
		}
		r := w.persist(ctx, snap, pos)
		if reusable(c, encoded) {
			r.capt = c
		}
		w.saveDone <- r
	}()
	return nil
}

// reusable reports whether the capture c, once its snapshot is saved, may
// be reused for the next: only a delta's, and only when the store is the
// package's own (encoded), which keeps nothing of a snapshot after Save.
// Any other store may keep what it is given (Snapshot.Merge does), and a
// whole snapshot's buffers hold the entire state, too much to keep aside.
func reusable(c *capture, encoded bool) bool {
	return c != nil && c.s.Delta && encoded
}

// saveResult is the outcome of persist.
type saveResult struct {
	snap    *Snapshot // the snapshot saved, or nil for an acknowledgement only
	capt    *capture  // the capture snap was built from
	pos     int64     // the position acknowledged
	saveErr error
	ackErr  error
	took    time.Duration // the save's
}

// persist saves snap (unless nil) and, once it is durable, acknowledges
// pos. It runs on its own goroutine and touches no worker state.
func (w *worker[S]) persist(ctx context.Context, snap *Snapshot, pos int64) saveResult {
	r := saveResult{snap: snap, pos: pos}
	if snap != nil {
		start := time.Now()
		if r.saveErr = w.cfg.Store.Save(ctx, w.cfg.Name, *snap); r.saveErr != nil {
			return r
		}
		r.took = time.Since(start)
	}
	r.ackErr = w.api.ack(ctx, w.cfg.Name, pos)
	return r
}

// onSaved records the outcome of persist.
func (w *worker[S]) onSaved(r saveResult) {
	w.saving = false
	inflight := w.inflight
	w.inflight = 0
	defer w.eng.recycle(r.capt)
	if r.saveErr != nil {
		// The changes the snapshot held are no longer tracked: the next
		// one is whole, and its events are still not durable.
		w.eng.full = true
		w.eng.uncaptured += inflight
		w.transient("save snapshot", r.saveErr)
		return
	}
	if r.snap != nil {
		w.eng.saved(w.now(), r.took)
		w.savedPos = max(w.savedPos, r.snap.Position)
	}
	if r.ackErr != nil {
		w.transient("acknowledge", r.ackErr)
		return
	}
	w.acked = max(w.acked, r.pos)
	w.eng.stats.acked.Store(w.acked)
}

// waitSave waits for the save in flight, if any.
func (w *worker[S]) waitSave() {
	if w.saving {
		w.onSaved(<-w.saveDone)
	}
}

// confirmLive reads the consumer's pending events to learn the positions of
// live events, until the state is exact or no more can be learned now. It
// returns errGap when events were missed, or the error of the read.
func (w *worker[S]) confirmLive(ctx context.Context) error {
	for !w.eng.exact() {
		pending, err := w.api.pending(ctx, w.cfg.Name, w.pollLimit)
		if err != nil {
			return err
		}
		if _, err := w.eng.advance(pending, w.now()); err != nil {
			return err
		}
		if w.eng.exact() || len(pending) < w.pollLimit || w.pollLimit >= w.maxPollLimit {
			return nil
		}
		// Every pending event read was applied and more follow: read more.
		w.pollLimit = min(2*w.pollLimit, w.maxPollLimit)
	}
	return nil
}

func (w *worker[S]) save(ctx context.Context) error {
	c, err := w.eng.capture(w.now())
	if err != nil {
		return err
	}
	encoded := savesEncoded(w.cfg.Store)
	snap := c.build(encoded)
	start := time.Now()
	err = w.cfg.Store.Save(ctx, w.cfg.Name, snap)
	if reusable(c, encoded) {
		w.eng.recycle(c)
	}
	if err != nil {
		w.eng.full = true
		return err
	}
	w.eng.saved(w.now(), time.Since(start))
	w.savedPos = snap.Position
	// Every event received is in the snapshot just made durable.
	w.eng.uncaptured, w.inflight = 0, 0
	return nil
}

func (w *worker[S]) ackSaved(ctx context.Context) error {
	if w.savedPos <= w.acked {
		return nil
	}
	if err := w.api.ack(ctx, w.cfg.Name, w.savedPos); err != nil {
		return err
	}
	w.acked = w.savedPos
	w.eng.stats.acked.Store(w.acked)
	return nil
}

// pushNow pushes the state of the touched entities to Core's projection
// store; on failure they are pushed again next time.
func (w *worker[S]) pushNow(ctx context.Context) {
	p := w.cfg.Push
	if p == nil {
		return
	}
	w.lastPush = w.now()
	w.sincePush = 0
	ids := w.eng.takeTouched()
	if len(ids) == 0 {
		return
	}
	entries := p.Entities(w.eng.state, ids)
	if len(entries) == 0 {
		return
	}
	if err := w.api.putStates(ctx, w.projName, entries); err != nil {
		w.eng.retouch(ids)
		w.transient("push state", err)
		return
	}
	w.eng.stats.pushes.Add(1)
}

// finish is the clean stop: a last checkpoint and push, retried until they
// succeed or the Stop deadline passes.
func (w *worker[S]) finish() {
	w.waitSave()
	if w.needRollback {
		// The state missed events; the last snapshot stands.
		w.log.Info("projection worker stopped", "position", w.savedPos, "acked", w.acked)
		return
	}
	ctx := w.ctx
	var err error
	for {
		err = w.finalCheckpoint(ctx)
		if err == nil || ctx.Err() != nil || isFatal(err) {
			break
		}
		w.transient("final checkpoint", err)
		t := time.NewTimer(w.bo.next())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if err != nil {
		w.fail(fmt.Errorf("projection: consumer %q: final checkpoint: %w", w.cfg.Name, err))
		return
	}
	w.log.Info("projection worker stopped", "position", w.savedPos, "acked", w.acked)
}

func (w *worker[S]) finalCheckpoint(ctx context.Context) error {
	if err := w.confirmLive(ctx); err != nil {
		if errors.Is(err, errGap) {
			// The live state is unsound; the last snapshot stands.
			w.log.Warn("events were missed; keeping the last snapshot", "err", err)
			return nil
		}
		return fmt.Errorf("read pending events: %w", err)
	}
	if w.eng.exact() && w.eng.confirmed > w.savedPos {
		if err := w.save(ctx); err != nil {
			return err
		}
	}
	if err := w.ackSaved(ctx); err != nil {
		return err
	}
	if p := w.cfg.Push; p != nil {
		w.pushNow(ctx)
		if len(w.eng.touched) > 0 {
			return errors.New("push state failed")
		}
	}
	if !w.eng.exact() {
		w.log.Warn("stopping with live events whose positions are not confirmed; a restart replays them", "position", w.savedPos)
	}
	return nil
}

func (w *worker[S]) transient(what string, err error) {
	err = fmt.Errorf("projection: %s: %w", what, err)
	w.log.Warn("projection worker: "+what+" failed; will retry", "err", err)
	w.setLastErr(err)
}

func (w *worker[S]) setLastErr(err error) {
	w.report(err)
}

func (w *worker[S]) fail(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	w.report(err)
}

// report hands err to the OnError callback, recovering a panic in it.
func (w *worker[S]) report(err error) {
	if w.cfg.OnError == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("projection worker: OnError panicked", "panic", r, "err", err)
		}
	}()
	w.cfg.OnError(err)
}
