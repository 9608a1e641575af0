// Package coretest is an in-memory AllSource server for tests, examples and
// demos, in the spirit of net/http/httptest: it behaves like AllSource Core
// and the Query Service closely enough that code which works against it
// works against the real servers.
//
// Start one per test:
//
//	srv := coretest.NewTestServer(t, coretest.WithAPIKeys("ask_test"))
//	// Point a Core client at srv.URL (like :3900) and a Query Service
//	// client at srv.QueryURL() (like :3902), with the key "ask_test".
//
// NewTestServer closes the server when the test ends and checks every
// request it receives and every response and WebSocket frame it sends
// against the OpenAPI documents in spec/, with kin-openapi's openapi3filter;
// a violation fails the test. Responses and frames are always checked. A
// request that breaks the spec is reported when the server accepted it: a
// client that drifted from the spec but still got a 2xx is the drift that
// would otherwise go unnoticed, while a refused request already fails, and
// tests must be able to send deliberately bad requests to reach the
// server's own validation (WithStrictRequests reports those too).
// NewServer starts a server without these checks (faster, for benchmarks);
// Listen starts one on given addresses and Serve on given listeners (see
// the command cmd/allsource-server).
//
// # Behaviour
//
// The Core endpoints follow the operations of spec/core.yaml with Core's
// semantics: event validation rules and Core's 400 texts, JSON bodies of
// at most 2 MiB (a plain-text 413 beyond), a struct member given twice
// refused with 422, per-entity versions from 1 counted per entity id across
// tenants, expected_version conflicts (409 version_conflict), batches that are not atomic, every query filter with
// total_count, has_more and entity_version, entities and duplicates, entity
// state and snapshots, stats, streams and event types, the built-in
// projections entity_snapshots and event_counters, the projection state
// store, durable consumers (get-or-create, a cursor that only moves
// forward, 1-based global positions, the "x.*" filter grammar), and the
// WebSocket stream (consumer replay frames, replay_complete, live bare
// events or JSON arrays when batching, subscribe and legacy filter frames,
// lagged notices from a bounded per-client buffer). Authentication takes a
// bearer token, a raw Authorization token or X-API-Key, with Core's
// plain-text 401s; /health is public; the WebSocket upgrade is not. Rate
// limiting is a token bucket per tenant with a plain-text 429 and
// Retry-After. The Query Service endpoints (health and the events query)
// have their own shapes: JSON 401 and 429 bodies, the tenant taken from the
// credentials, limit 100 by default. Core's CORS layer allows any origin
// (preflights get 200 before authentication), and a path Core does not
// serve gets 404 with an empty body.
//
// Like Core, the server trusts tenant_id from requests; entities,
// duplicates, events by id, consumers, the live stream and the projection
// state store are not tenant-scoped.
//
// # Faults
//
// Tests drive failures through one door, Control (in the spirit of franz-go
// kfake): a function offered every request, by service and operationId
// (the spec's), that returns a Fault to apply: a status to fail with (and
// the real service's body for it), a delay, or a cut body (the request is
// processed, the response cut mid-body and the connection closed). A
// control is dropped after it handles a request unless it calls
// KeepControl. Inject is Control with a counting control, for "the next N
// requests of this operation". DropStreamAfter and DropStreams end
// WebSocket streams without a close frame, and Reset removes everything.
//
// # Storage
//
// Events are kept in fixed-size records in blocks, payloads and metadata in
// a chunked byte arena, indexes as int32 positions, and repeated strings
// interned: about 85 bytes per small event. WithDataDir adds append-only
// JSON-lines logs of events, consumer cursors and the projection state
// store, replayed at start; writes reach the operating system before the
// response is sent and are synced to disk on Close.
package coretest
