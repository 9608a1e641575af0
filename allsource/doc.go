// Package allsource is the Go SDK for the AllSource event store.
//
// CoreClient talks to Core directly (inside the caller's network, default
// http://localhost:3900); QueryClient talks to the Query Service (default
// http://localhost:3902), which enforces rate limits and quotas. Both are
// cheap to copy and safe for concurrent use, and share one connection pool.
//
// Arguments Core would refuse (event types, entity ids, tenant ids) are
// rejected before any request is sent, with an error matching
// ErrInvalidArgument.
package allsource
