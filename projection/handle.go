package projection

import (
	"context"
	"encoding/json"
	"fmt"
)

// Handle controls a running worker, in the manner of a NATS consume
// context: Stop and Drain end it (Drain applies what was already received
// first), Done is closed when it has ended and Err tells why; transient
// errors go to Config.OnError as they happen. Read, State, Stats and
// WaitCaughtUp observe it, and ReplayDeadLetters replays skipped events.
// Its methods are safe for concurrent use.
type Handle[S any] struct {
	w *worker[S]
}

// Read calls fn with the current state under a read lock, so fn sees a
// consistent state between two events. fn must not modify the state or
// keep references into it after it returns, and must not call the
// handle's Stop or Drain; the reducer must not call Read.
func (h *Handle[S]) Read(fn func(state S)) {
	h.w.eng.mu.RLock()
	defer h.w.eng.mu.RUnlock()
	fn(h.w.eng.state)
}

// State returns a deep copy of the current state, made by an
// encoding/json round trip.
func (h *Handle[S]) State() (S, error) {
	h.w.eng.mu.RLock()
	data, err := json.Marshal(h.w.eng.state)
	h.w.eng.mu.RUnlock()
	var s S
	if err != nil {
		return s, fmt.Errorf("projection: copy state: %w", err)
	}
	s = h.w.cfg.Initial()
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("projection: copy state: %w", err)
	}
	return s, nil
}

// WaitCaughtUp waits until the worker has applied every event Core held
// when it first connected (replay_complete). It returns the worker's error
// if it stopped first, ErrStopped if it was stopped, or ctx's error.
// Stats().CaughtUp tells whether the worker is caught up now.
func (h *Handle[S]) WaitCaughtUp(ctx context.Context) error {
	select {
	case <-h.w.caughtUp:
		return nil
	case <-h.w.done:
		select {
		case <-h.w.caughtUp:
			return nil
		default:
		}
		if err := h.Err(); err != nil {
			return err
		}
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err returns the error that stopped the worker (a *ReducerError, say), or
// nil while it runs or after a clean stop. Config.OnError sees the
// transient errors too.
func (h *Handle[S]) Err() error {
	h.w.mu.Lock()
	defer h.w.mu.Unlock()
	return h.w.err
}

// Done returns a channel that is closed when the worker has stopped: by
// Stop or Drain, or by an error (see Err).
func (h *Handle[S]) Done() <-chan struct{} { return h.w.done }

// Stats returns the worker's counters.
func (h *Handle[S]) Stats() Stats { return h.w.eng.stats.load() }

// Stop stops the worker: it stops reading the stream, saves a last
// snapshot of what it has applied (frames received but not yet applied are
// left for the next start to replay), acknowledges it and pushes state,
// retrying until ctx's deadline. It returns the error that stopped the
// worker earlier, the final checkpoint's error, or ctx's error when the
// deadline passed first (the worker then gives up at once, as a crash
// would: nothing is lost, a restart replays from the last checkpoint).
func (h *Handle[S]) Stop(ctx context.Context) error { return h.stop(ctx, false) }

// Drain is Stop after applying the frames already received.
func (h *Handle[S]) Drain(ctx context.Context) error { return h.stop(ctx, true) }

func (h *Handle[S]) stop(ctx context.Context, drain bool) error {
	w := h.w
	w.stopOnce.Do(func() {
		w.drain = drain
		close(w.stopping)
		context.AfterFunc(ctx, w.cancel)
	})
	select {
	case <-w.done:
		return h.Err()
	case <-ctx.Done():
		<-w.done
		return fmt.Errorf("projection: stop consumer %q: %w", w.cfg.Name, ctx.Err())
	}
}
