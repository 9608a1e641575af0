// Package runtime is the hand-written transport under every generated client:
// request building, authentication, retries with backoff and jitter, a circuit
// breaker, typed API errors, and the value types (Opt, Nullable) that generated
// structs use for optional and nullable fields.
//
// Generated packages import runtime; runtime imports nothing generated.
package runtime
