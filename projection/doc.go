// Package projection runs a read model over the AllSource event stream: a
// worker folds the events of a durable consumer into state of the caller's
// type, snapshots that state, and survives restarts, disconnects, replays
// and lost frames without losing an event or applying one twice.
//
// # Lifecycle
//
// The worker registers its durable consumer with Core, loads its last
// snapshot, connects to the WebSocket stream with the consumer id and
// receives every matching event after the consumer's cursor (replay, with
// positions), then a replay_complete sentinel, then live events (without
// positions, singly or in JSON-array batches). Each event goes through the
// reducer once. The handle reads the state, waits until the worker has
// caught up, reports the error that stopped it and stops it (Stop, or
// Drain to apply what was received first); Config.OnError hears of each
// error as it happens. The context given to Start governs the start only.
//
// A worker keeps its read model in memory (Start) or in a database
// (StartSQL), where the events of a transaction, the consumer's position
// and the entities' versions are committed together, exactly once. The
// database mode has partitions too (StartSQLPartitions: each partition
// commits its own position row with its events), and under PoisonSkip it
// records the events its Apply fails on in a dead-letter table, in the
// transaction that moves the position past them.
//
// # Why no event is lost or applied twice
//
// Invariant. A snapshot (state S, per-entity versions V, position P) holds
// exactly the events matching the worker's event types whose position is
// at or below P, each applied once, and V[entity] is the version of the
// last of that entity's events in S.
//
// Replay. Core sends the events after the consumer's cursor in position
// order, and each entity's events in version order. A replayed event at or
// below the position the state is complete up to is skipped; so is one
// whose version is at or below V[entity] (Core subscribes a socket to live
// events before replaying, so live frames may repeat replayed events).
// Every other event is applied, so the state after the replay equals a
// fold from scratch.
//
// Acknowledgement. The consumer's cursor is acknowledged only after Save of
// a snapshot holding that position returned: the cursor never passes the
// durable snapshot, so no event Core stops replaying is missing from it. A
// restarted worker loads its snapshot and lets Core replay what follows. A
// consumer whose cursor is ahead of the snapshot (the snapshot was lost)
// is refused with ErrSnapshotBehind rather than silently missing events,
// and so is, with ErrEventTypesChanged, a snapshot folded with other event
// types than the worker's.
//
// Checkpoints while applying. A checkpoint takes, on the goroutine that
// applies the events, the changes since the previous one (the entries and
// versions touched, at a position the state is exact at: a cost that
// follows the changes, not the state) and hands them to a goroutine that
// saves them and then acknowledges the position, while events go on being
// applied. A save is durable (a file and its directory synced), so it
// takes milliseconds, about as long as applying thousands of events. When
// the next checkpoint falls due (by events or by time) while a save is
// still in flight, the worker does not wait: it goes on applying and takes
// the checkpoint once the save is over, and that delta covers every change
// since the previous one (the changes coalesce; an entity touched many
// times is written once). The position is reported, and acknowledged to
// Core, only once its save returned. The worker waits for a save in flight
// only when the events not yet durable reach CheckpointEvents, which
// bounds what a restart replays and the changes held in memory: the
// default, 100,000 events, is a fraction of a second of catch-up, and is
// large enough that a catch-up does not wait for its disk.
//
// Checkpoints while live. Live frames carry no position. The worker learns
// positions from the consumer's pending events (the events after the
// cursor, with positions; reading them does not move the cursor): the end
// of the longest run of pending events the worker has applied, matched by
// event id, is a position P every event up to which is in the state. When
// every event applied live is accounted for that way, the state is exact
// at P: the worker saves a snapshot at P and acknowledges P. It never
// snapshots a state holding a live event whose position is unconfirmed,
// because that event might follow one the worker missed. So a restart
// after a long live period replays what came after the last checkpoint,
// not everything since the worker started.
//
// Missed events. A lagged notice means Core dropped live frames for this
// connection; a pending event whose entity has moved past it, or that stays
// missing for StallTimeout while later events keep arriving, means the
// same, and so does, for a worker that takes every event type, a live event
// that skips a version of its entity. Version dedup would skip the missed events forever, so the worker
// returns to its last durable snapshot (or to the empty state) and
// reconnects: Core replays from the cursor, which is at or below that
// snapshot's position, and the snapshot, being exact, holds no event after
// a missed one. A dropped connection loses only the tail of the stream,
// which the replay after reconnecting delivers, so it needs no rollback.
//
// Reducer errors. A reducer that returns an error or panics (the panic is
// recovered and becomes a *PanicError) is handled by the worker's
// PoisonPolicy: it may retry the event with backoff, then either stop the
// worker with a *ReducerError on the handle (the default) or skip the event,
// recording it in a DeadLetterStore the caller can list and replay with
// Handle.ReplayDeadLetters. A stopped worker's failing event is not
// acknowledged and no snapshot past it is saved, so a restarted worker
// meets the same event again. A reducer must leave the state as it found
// it when it fails, or the state holds a partial effect of the event.
//
// # State
//
// The state type S must round-trip through encoding/json: snapshots store
// it encoded, and a restarted or recovering worker decodes it. The reducer
// may modify the state in place (a map, say) and return it. Handle.Read
// gives the state to a function under a read lock; Handle.State returns a
// deep copy.
//
// A checkpoint must cost what changed, not the size of the state: a worker
// that folds a million entities and encodes them all at every checkpoint
// spends its time re-writing what did not change. The worker cannot diff an
// arbitrary S, so there are two kinds of state. A keyed state, *Map[V], is a
// map from keys (entity ids, usually) to values that records which keys
// were set or deleted since the last checkpoint: a checkpoint encodes those
// entries only, with the versions of the entities that had events since,
// and the store keeps it as a delta on top of a base. Any other S is a
// whole-value state, encoded whole at each checkpoint (its versions still
// go as a delta): simple, and right for small read models (totals, a few
// thousand rows). A Map rather than a diff of the state: a diff costs the
// state again at each checkpoint, and recording changes where they happen
// costs one map write per change.
//
// A catch-up over many entities costs little more than one over a few:
// the worker keeps one record per entity (its version and changed mark),
// a Map one per key, in tables that grow by chunks rather than by copying;
// before applying a batch of events, the worker reads ahead the slots of
// their entities in the versions and in a keyed state (at the entity ids,
// the keys a Map is usually given), so that the cache misses of a large
// table are made together; and a checkpoint copies the changes without
// building maps, which a FileStore or CoreStore encodes as they are.
//
// # Partitions
//
// Config.Partition splits a projection by entity into Count partitions,
// each a worker with its own consumer, state and snapshots that applies the
// events of its entities, in order, and skips the others. StartPartitions
// runs several in one process: they share one stream connection, read and
// decoded once, and each event goes to its partition's worker, which
// applies it on its own goroutine, in parallel with the others. The stream
// is that of the partition whose snapshot is oldest (Core has no
// partitioned consumers), so the others skip what they already hold; after
// each batch of replayed events every partition learns how far the replay
// has reached, so its position and acknowledgements move on with the
// stream even where it holds none of the events. When one partition needs
// a new connection (missed events, say), they all reconnect. Separate
// processes each start the partitions they own, each process with its own
// stream. A projection keeps its number of partitions: another one is
// refused with ErrPartitionsChanged.
//
// # Snapshot stores
//
// A store keeps, per consumer, a base snapshot and the deltas saved after
// it; Load merges them. The worker saves a whole snapshot first (and after
// any failed save, whose changes it no longer tracks), then deltas. Once
// the entries the deltas superseded weigh twice the live ones (and 16 MiB),
// or the deltas number 512, the store merges them into a new base in the
// background: deltas that only add entries, as a growing read model's do,
// are not merged again and again for nothing, and the work of compaction
// stays proportional to what was written. A compaction reads the deltas
// from the newest to the oldest, keeping the newest value of each key only,
// then copies the members of the base that no delta superseded: it
// allocates for the live keys alone, and does not rebuild the base as maps
// only to write it out again. (A delta of a keyed state says
// how many entries the whole snapshot holds; for a whole-value state, the
// deltas count as superseded once they weigh twice the base.) FileStore
// keeps base and deltas in local files, each written atomically and synced. CoreStore keeps them in Core's projection
// store, cut into chunks under Core's 2 MiB request limit; Core keeps that
// store in memory, so it is only as durable as the Core process.
package projection
