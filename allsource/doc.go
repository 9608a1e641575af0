// Package allsource is the Go SDK for the AllSource event store.
//
// CoreClient talks to Core directly (inside the caller's network, default
// http://localhost:3900); QueryClient talks to the Query Service (default
// http://localhost:3902), which enforces rate limits and quotas. Both are
// cheap to copy and safe for concurrent use, and share one connection pool
// and circuit breaker between copies. Every Core operation of the generated
// client is reachable through CoreClient.API.
//
// Arguments Core would refuse (event types, entity ids, tenant ids, filters
// that match nothing) are rejected before any request is sent, with an error
// matching ErrInvalidArgument. Server errors are *runtime.APIError values
// matching the runtime's status sentinels (runtime.ErrNotFound,
// runtime.ErrRateLimited, ...) and the error codes AllSource's specs declare
// (ErrVersionConflict, ErrReadOnly, ErrQuotaExceeded, ...), which
// runtime.IsRetryable, runtime.IsNotFound and the other helpers classify; a
// version conflict is a *VersionConflictError with both versions.
//
// Options are one type, Option, for a client (NewCoreClient(url, key,
// opts...)) and for a call (c.Query(ctx, q, opts...)), a call's options
// applied over its client's. WithTenant scopes writes and reads to one
// tenant: without it Core stores events sent without a tenant in "default"
// but answers queries without one from the caller's tenant.
//
// # Coming from the Rust SDK
//
//	Rust (allsource crate)                     Go
//	CoreClient::new(url, key)                  NewCoreClient(url, key, opts...)
//	ingest_event(req)                          CoreClient.Ingest(ctx, NewEvent{...})
//	ingest_batch(reqs)                         CoreClient.IngestBatch(ctx, events)
//	health()                                   CoreClient.Health, QueryClient.Health
//	get_projection_state(name, id)             CoreClient.ProjectionState, GetProjectionState[S]
//	put_projection_state(name, id, state)      CoreClient.PutProjectionState
//	bulk_get_projection_states(name, ids)      CoreClient.ProjectionStates
//	bulk_put_projection_state(name, states)    CoreClient.PutProjectionStates
//	get_projection_state_summary[_paged]       CoreClient.ProjectionStateSummary / ProjectionStateSummaries
//	register_consumer(id, filters)             CoreClient.RegisterConsumer
//	get_consumer(id)                           CoreClient.Consumer
//	poll_consumer_events(id, limit)            CoreClient.PollConsumer
//	ack_consumer(id, position)                 CoreClient.AckConsumer
//	save_checkpoint / load_checkpoint          CoreClient.SaveCheckpoint / LoadCheckpoint
//	QueryClient::query_events(params)          QueryClient.Query, CoreClient.Query
//	get_entity_events / get_events_by_type     CoreClient.EntityEvents / Query{EventType: ...}
//	events paginator                           CoreClient.Events, QueryClient.Events (iter.Seq2)
//	query_and_fold (one page)                  FoldEvents (every page, constant memory)
//	list_entities (+ paginator)                CoreClient.ListEntities, CoreClient.Entities
//	detect_duplicates                          CoreClient.DetectDuplicates
//	list_projections                           CoreClient.ListProjections
//	Error::is_retryable, is_not_found, ...     runtime.IsRetryable, runtime.IsNotFound, ...
//	EventStreamClient::connect(id, filters)    CoreClient.Subscribe(ctx, StreamOptions{...})
//	ProjectionWorker                           package projection
//	normalize event types (always on)          WithNormalizedEventTypes (opt-in)
//
// Where Go goes further: a plain ingest is never retried after a failure
// that may have stored it (no duplicate events), Retry-After is honoured,
// backoff is jittered, the half-open breaker lets one probe through, list
// entities and detect duplicates live on CoreClient because only Core
// serves them, and QueryClient refuses filters the Query Service would
// drop silently.
package allsource
