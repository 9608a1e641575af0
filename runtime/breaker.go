package runtime

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// CircuitState is the state of a CircuitBreaker.
type CircuitState int

// Circuit breaker states.
const (
	// CircuitClosed lets every request through.
	CircuitClosed CircuitState = iota
	// CircuitHalfOpen lets exactly one probe request through; its outcome
	// closes or re-opens the circuit.
	CircuitHalfOpen
	// CircuitOpen refuses every request until the cool-down has passed.
	CircuitOpen
)

// String returns "closed", "half-open" or "open".
func (s CircuitState) String() string {
	switch s {
	case CircuitClosed:
		return "closed"
	case CircuitHalfOpen:
		return "half-open"
	case CircuitOpen:
		return "open"
	}
	return "unknown"
}

// CircuitBreakerSettings configures a CircuitBreaker.
type CircuitBreakerSettings struct {
	// Threshold is the number of consecutive failed attempts (5xx
	// responses and transport failures; 4xx responses and cancellations
	// by the caller do not count) that opens the circuit. Default 5.
	Threshold int
	// Cooldown is how long the circuit stays open before it lets one
	// probe through. Default 30 s.
	Cooldown time.Duration
	// OnStateChange, if set, is called on every state change. It runs
	// while the breaker is locked: it must return quickly and must not
	// call the breaker.
	OnStateChange func(from, to CircuitState)
}

// DefaultCircuitBreakerSettings returns the defaults: 5 consecutive failures
// open the circuit for 30 s.
func DefaultCircuitBreakerSettings() CircuitBreakerSettings {
	return CircuitBreakerSettings{Threshold: 5, Cooldown: 30 * time.Second}
}

// CircuitBreaker stops a client from sending requests to a server that keeps
// failing. Closed, it counts consecutive failed attempts; at the threshold it
// opens and refuses every attempt (with a *CircuitOpenError that says when it
// will try again) for the cool-down; then it is half-open and lets exactly one
// probe through: success closes it, failure opens it for another cool-down,
// and every other attempt meanwhile is refused.
//
// It is safe for concurrent use and is shared by every call of the clients
// it is given to. The state machine is sony/gobreaker's two-step breaker
// (one probe in half-open, generation-checked outcomes); this type adds the
// classification of outcomes and the retry time.
type CircuitBreaker struct {
	cb       *gobreaker.CircuitBreaker[struct{}]
	cooldown time.Duration
	retryAt  atomic.Int64 // unix nanoseconds when the open circuit turns half-open
}

// NewCircuitBreaker returns a closed breaker. Zero settings take the
// defaults of DefaultCircuitBreakerSettings.
func NewCircuitBreaker(s CircuitBreakerSettings) *CircuitBreaker {
	d := DefaultCircuitBreakerSettings()
	if s.Threshold <= 0 {
		s.Threshold = d.Threshold
	}
	if s.Cooldown <= 0 {
		s.Cooldown = d.Cooldown
	}
	b := &CircuitBreaker{cooldown: s.Cooldown}
	threshold := uint32(s.Threshold)
	onChange := s.OnStateChange
	b.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		MaxRequests:  1,
		Timeout:      s.Cooldown,
		ReadyToTrip:  func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { return errors.Is(err, errExcluded) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.retryAt.Store(time.Now().Add(b.cooldown).UnixNano())
			}
			if onChange != nil {
				onChange(circuitState(from), circuitState(to))
			}
		},
	})
	return b
}

// State returns the breaker's current state.
func (b *CircuitBreaker) State() CircuitState { return circuitState(b.cb.State()) }

func circuitState(s gobreaker.State) CircuitState {
	switch s {
	case gobreaker.StateOpen:
		return CircuitOpen
	case gobreaker.StateHalfOpen:
		return CircuitHalfOpen
	}
	return CircuitClosed
}

// outcome is what one attempt tells the breaker.
type outcome int

const (
	outcomeSuccess  outcome = iota // the server answered (2xx-4xx)
	outcomeFailure                 // 5xx or a transport failure
	outcomeExcluded                // says nothing about the server (caller cancelled, bad body)
)

// errFailure and errExcluded carry an outcome into gobreaker.
var (
	errFailure  = errors.New("attempt failed")
	errExcluded = errors.New("attempt excluded")
)

// run makes one attempt through the breaker: attempt runs unless the breaker
// refuses it, in which case run returns a *CircuitOpenError; otherwise
// attempt's outcome is recorded and run returns nil.
func (b *CircuitBreaker) run(attempt func() outcome) error {
	_, err := b.cb.Execute(func() (struct{}, error) {
		switch attempt() {
		case outcomeSuccess:
			return struct{}{}, nil
		case outcomeFailure:
			return struct{}{}, errFailure
		}
		return struct{}{}, errExcluded
	})
	switch {
	case err == nil, err == errFailure, err == errExcluded:
		return nil
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		return &CircuitOpenError{RetryAt: time.Unix(0, b.retryAt.Load()), Probing: true}
	}
	return &CircuitOpenError{RetryAt: time.Unix(0, b.retryAt.Load())}
}
