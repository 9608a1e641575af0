package projection

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/allsource-go/allsource/allsource"
)

// PoisonAction is what a worker does with an event its reducer keeps
// failing on.
type PoisonAction int

const (
	// PoisonStop stops the worker with a *ReducerError (the default): the
	// event is not acknowledged, so a restarted worker meets it again.
	PoisonStop PoisonAction = iota
	// PoisonSkip records the event and the error in the dead-letter store
	// and goes on; the event counts as handled.
	PoisonSkip
)

// Defaults of PoisonPolicy's backoff.
const (
	DefaultPoisonMinBackoff = 10 * time.Millisecond
	DefaultPoisonMaxBackoff = time.Second
)

// PoisonPolicy says what a worker does when its reducer fails on an event,
// by returning an error or by panicking (a panic is recovered and becomes
// a *PanicError). The zero PoisonPolicy stops the worker at the first
// failure.
//
// A reducer that fails must leave the state as it found it for a retry or
// a skip to be sound: the worker cannot undo a partial change.
type PoisonPolicy struct {
	// Retries is how many times the reducer is tried again on the failing
	// event before Action applies, with a backoff between tries.
	Retries int
	// MinBackoff and MaxBackoff bound the wait between tries (exponential,
	// jittered, from runtime.Backoff); defaults DefaultPoisonMinBackoff and
	// DefaultPoisonMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Action applies when the tries are spent.
	Action PoisonAction
	// DeadLetters receives the events skipped; required with PoisonSkip.
	// The worker goes on only once the store has the event.
	DeadLetters DeadLetterStore
}

// PanicError is the error of a reducer that panicked, inside the
// *ReducerError the worker reports.
type PanicError struct {
	// Value is what the reducer panicked with.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error names the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("reducer panicked: %v", e.Value) }

// DeadLetter is an event skipped under PoisonSkip, with the error.
type DeadLetter struct {
	// Consumer is the worker's consumer name.
	Consumer string `json:"consumer"`
	// Event is the event the reducer failed on.
	Event Event `json:"event"`
	// Error is the reducer's error, as text.
	Error string `json:"error"`
	// At is when the event was skipped.
	At time.Time `json:"at"`
}

// deadLetterJSON is the encoding of a DeadLetter: Event's embedded
// allsource.Event encodes itself, without the position.
type deadLetterJSON struct {
	Consumer string          `json:"consumer"`
	Event    allsource.Event `json:"event"`
	Position int64           `json:"position,omitempty"`
	Error    string          `json:"error"`
	At       time.Time       `json:"at"`
}

// MarshalJSON encodes d with the event's position.
func (d DeadLetter) MarshalJSON() ([]byte, error) {
	return json.Marshal(deadLetterJSON{d.Consumer, d.Event.Event, d.Event.Position, d.Error, d.At})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (d *DeadLetter) UnmarshalJSON(data []byte) error {
	var j deadLetterJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*d = DeadLetter{Consumer: j.Consumer, Event: Event{Event: j.Event, Position: j.Position}, Error: j.Error, At: j.At}
	return nil
}

// DeadLetterStore keeps the events a worker skipped. Its methods may be
// called from several goroutines.
type DeadLetterStore interface {
	// Add records d durably.
	Add(ctx context.Context, d DeadLetter) error
	// List returns the dead letters of consumer, oldest first.
	List(ctx context.Context, consumer string) ([]DeadLetter, error)
	// Remove forgets the dead letter of consumer for the event id.
	Remove(ctx context.Context, consumer, eventID string) error
}

// FileDeadLetters is a DeadLetterStore in one file of JSON lines: Add
// appends a line and syncs the file, Remove rewrites it atomically.
type FileDeadLetters struct {
	path string
	mu   sync.Mutex
}

// NewFileDeadLetters returns a DeadLetterStore keeping dead letters in the
// file at path, created on the first Add.
func NewFileDeadLetters(path string) *FileDeadLetters { return &FileDeadLetters{path: path} }

// Add appends d to the file and syncs it.
func (f *FileDeadLetters) Add(ctx context.Context, d DeadLetter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	line, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("projection: encode dead letter: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return fmt.Errorf("projection: dead letters: %w", err)
	}
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("projection: dead letters: %w", err)
	}
	_, err = file.Write(append(line, '\n'))
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("projection: dead letters: %w", err)
	}
	return nil
}

// all reads every dead letter in the file. f.mu must be held.
func (f *FileDeadLetters) all() ([]DeadLetter, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("projection: dead letters: %w", err)
	}
	var out []DeadLetter
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var d DeadLetter
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			// A line cut by a crash during Add: that Add never returned.
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// List returns the dead letters of consumer, oldest first.
func (f *FileDeadLetters) List(ctx context.Context, consumer string) ([]DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	all, err := f.all()
	if err != nil {
		return nil, err
	}
	out := all[:0:0]
	for _, d := range all {
		if d.Consumer == consumer {
			out = append(out, d)
		}
	}
	return out, nil
}

// Remove forgets the dead letter of consumer for eventID.
func (f *FileDeadLetters) Remove(ctx context.Context, consumer, eventID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	all, err := f.all()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, d := range all {
		if d.Consumer == consumer && d.Event.ID == eventID {
			continue
		}
		line, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("projection: encode dead letter: %w", err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if err := writeFileAtomic(f.path, buf.Bytes()); err != nil {
		return fmt.Errorf("projection: dead letters: %w", err)
	}
	return nil
}

// reduceSafe runs the reducer on ev under the state lock, turning a panic
// into a *PanicError. The state is replaced only on success.
func (e *engine[S]) reduceSafe(ev *Event) (err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	s, err := e.reduce(e.state, *ev)
	if err == nil {
		e.state = s
	}
	return err
}

// poisoned handles a reducer failure under the worker's policy: it retries
// with backoff, then stops (returning the *ReducerError) or records a dead
// letter and returns nil, the event handled.
func (w *worker[S]) poisoned(ev *Event, err error) error {
	p := w.cfg.Poison
	bo := newBackoff(p.MinBackoff, p.MaxBackoff)
	for try := 1; try <= p.Retries; try++ {
		w.log.Warn("reducer failed; retrying", "event", ev.ID, "try", try, "of", p.Retries, "err", err)
		t := time.NewTimer(bo.next())
		select {
		case <-t.C:
		case <-w.stopping:
			t.Stop()
			return &ReducerError{Event: *ev, Err: err}
		case <-w.ctx.Done():
			t.Stop()
			return &ReducerError{Event: *ev, Err: err}
		}
		if err = w.eng.reduceSafe(ev); err == nil {
			return nil
		}
	}
	rerr := &ReducerError{Event: *ev, Err: err}
	if p.Action != PoisonSkip {
		return rerr
	}
	d := DeadLetter{Consumer: w.cfg.Name, Event: *ev, Error: err.Error(), At: w.now().UTC()}
	if aerr := p.DeadLetters.Add(w.ctx, d); aerr != nil {
		return fmt.Errorf("%w (and recording it as a dead letter failed: %v)", rerr, aerr)
	}
	w.log.Warn("reducer failed; event skipped and recorded as a dead letter", "err", rerr)
	w.eng.stats.skipped.Add(1)
	return errSkipped
}

// errSkipped tells the engine that the policy skipped the event.
var errSkipped = errors.New("projection: event skipped")

// replayRequest asks the driver to replay the dead letters.
type replayRequest struct {
	ctx   context.Context
	reply chan replayResult
}

type replayResult struct {
	n   int
	err error
}

// ReplayDeadLetters runs the reducer again, on the worker's goroutine, on
// each dead letter the worker's Poison.DeadLetters holds for its consumer,
// oldest first (after the reducer was fixed, say). The state with the
// events that now succeed is saved in a snapshot, and then they are removed
// from the store; the others stay. It returns the number replayed. A crash
// between the snapshot and the removal leaves dead letters the state
// already holds, which a later replay would apply again.
func (h *Handle[S]) ReplayDeadLetters(ctx context.Context) (int, error) {
	w := h.w
	if w.cfg.Poison.DeadLetters == nil {
		return 0, fmt.Errorf("projection: consumer %q has no dead-letter store", w.cfg.Name)
	}
	req := replayRequest{ctx: ctx, reply: make(chan replayResult, 1)}
	select {
	case w.replays <- req:
	case <-w.done:
		return 0, fmt.Errorf("projection: consumer %q: %w", w.cfg.Name, ErrStopped)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	r := <-req.reply
	return r.n, r.err
}

// replayDeadLetters is ReplayDeadLetters on the driver.
func (w *worker[S]) replayDeadLetters(ctx context.Context) (int, error) {
	store := w.cfg.Poison.DeadLetters
	letters, err := store.List(ctx, w.cfg.Name)
	if err != nil || len(letters) == 0 {
		return 0, err
	}
	// The replayed events go into a snapshot at once, which needs a state
	// exact at a known position.
	w.waitSave()
	if err := w.confirmLive(ctx); err != nil {
		return 0, fmt.Errorf("projection: replay dead letters: %w", err)
	}
	if !w.eng.exact() {
		return 0, errors.New("projection: replay dead letters: live events await their positions; try again")
	}
	if w.syncStore {
		return w.replaySQLDeadLetters(ctx, letters)
	}
	var done []string
	var failed []error
	for _, d := range letters {
		ev := d.Event
		if err := w.eng.reduceSafe(&ev); err != nil {
			failed = append(failed, &ReducerError{Event: ev, Err: err})
			continue
		}
		w.eng.applied++
		w.eng.stats.applied.Add(1)
		done = append(done, ev.ID)
	}
	if len(done) > 0 {
		if err := w.save(ctx); err != nil {
			// The replayed events are in no durable snapshot: drop them
			// with the rest of the state since the last one.
			w.needRollback = true
			if rerr := w.rollback(); rerr != nil {
				return 0, fmt.Errorf("%w: replay dead letters: save failed (%v) and %v", errGap, err, rerr)
			}
			return 0, fmt.Errorf("projection: replay dead letters: save snapshot: %w", err)
		}
		for _, id := range done {
			if err := store.Remove(ctx, w.cfg.Name, id); err != nil {
				failed = append(failed, fmt.Errorf("projection: remove dead letter %s: %w", id, err))
			}
		}
	}
	return len(done), errors.Join(failed...)
}

// replaySQLDeadLetters is replayDeadLetters in database mode: the events
// are applied, and their dead letters removed, in one transaction; those
// that fail again are recorded again in it (under PoisonSkip).
func (w *worker[S]) replaySQLDeadLetters(ctx context.Context, letters []DeadLetter) (int, error) {
	store, ok := w.cfg.Store.(*sqlStore)
	if !ok {
		return 0, errors.New("projection: replay dead letters: the worker's store is not the database's")
	}
	ids := make([]string, 0, len(letters))
	for _, d := range letters {
		ev := d.Event
		if err := w.eng.reduceSafe(&ev); err != nil {
			return 0, fmt.Errorf("projection: replay dead letters: %w", err)
		}
		w.eng.applied++
		ids = append(ids, ev.ID)
	}
	store.replaying = ids
	if err := w.save(ctx); err != nil {
		store.replaying = nil
		// The replayed events were not committed: drop them with the
		// rest of what was not.
		w.needRollback = true
		if rerr := w.rollback(); rerr != nil {
			return 0, fmt.Errorf("%w: replay dead letters: commit failed (%v) and %v", errGap, err, rerr)
		}
		return 0, fmt.Errorf("projection: replay dead letters: commit: %w", err)
	}
	n := len(letters) - store.reskipped
	w.eng.stats.applied.Add(int64(n))
	return n, nil
}
