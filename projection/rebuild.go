package projection

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/allsource-go/allsource/allsource"
)

// Serving holds the worker whose state readers use, so that Rebuild can
// switch them to another one without them noticing. Its methods are safe
// for concurrent use.
type Serving[S any] struct {
	h atomic.Pointer[Handle[S]]
}

// NewServing returns a Serving holding h.
func NewServing[S any](h *Handle[S]) *Serving[S] {
	s := &Serving[S]{}
	s.h.Store(h)
	return s
}

// Handle returns the worker serving now.
func (s *Serving[S]) Handle() *Handle[S] { return s.h.Load() }

// Read is Handle().Read: fn gets the state of the worker serving now.
func (s *Serving[S]) Read(fn func(state S)) { s.h.Load().Read(fn) }

// Rebuild folds the projection again from the start under cfg (with a new
// Name: a new consumer, so Core replays every event) while the worker in
// serving keeps serving; once the new worker has caught up, serving
// switches to it and the old one is drained and stopped. Use it to change
// what a projection folds: its reducer, event types or partitions. If ctx
// ends or the new worker fails before it catches up, the new worker is
// stopped and the old one keeps serving. It returns the old worker's stop
// error, if any, after the switch.
func Rebuild[S any](ctx context.Context, c allsource.CoreClient, serving *Serving[S], cfg Config[S]) error {
	old := serving.Handle()
	if old != nil && cfg.Name == old.w.cfg.Name {
		return fmt.Errorf("%w: Rebuild needs a new Name; %q is the serving worker's", ErrInvalidConfig, cfg.Name)
	}
	h, err := Start(ctx, c, cfg)
	if err != nil {
		return fmt.Errorf("projection: rebuild as %q: %w", cfg.Name, err)
	}
	if err := h.WaitCaughtUp(ctx); err != nil {
		_ = h.Stop(context.WithoutCancel(ctx))
		return fmt.Errorf("projection: rebuild as %q: %w", cfg.Name, err)
	}
	serving.h.Store(h)
	if old == nil {
		return nil
	}
	if err := old.Drain(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("projection: rebuild as %q: stop the old worker: %w", cfg.Name, err)
	}
	return nil
}
