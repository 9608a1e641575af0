// Package ssebench compares the SSE decoding of a generated client with
// other readers, side by side in one run (go test -bench . -benchmem). It
// is a module of its own so that the readers it compares against are
// dependencies of the benchmark only, never of the main module.
package ssebench
