package projection

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Reducer folds one event into the state and returns the new state. It may
// modify state in place (a map, say) and return it. A reducer error stops
// the worker: the event is not acknowledged and no snapshot past it is
// saved, so a restarted worker meets the same event again.
type Reducer[S any] func(state S, ev Event) (S, error)

// ReducerError is the error a worker stops with when its reducer fails.
type ReducerError struct {
	// Event is the event the reducer failed on.
	Event Event
	// Err is the reducer's error.
	Err error
}

// Error names the event and the reducer's error.
func (e *ReducerError) Error() string {
	pos := "live"
	if e.Event.Position > 0 {
		pos = fmt.Sprintf("position %d", e.Event.Position)
	}
	return fmt.Sprintf("projection: reducer failed on %s event %s (entity %q, version %d, %s): %v",
		e.Event.EventType, e.Event.ID, e.Event.EntityID, e.Event.Version, pos, e.Err)
}

// Unwrap returns the reducer's error.
func (e *ReducerError) Unwrap() error { return e.Err }

// errGap reports that the worker missed an event: its state no longer holds
// a prefix of every entity's events, so it must be rebuilt from the last
// durable snapshot.
var errGap = errors.New("projection: an event was missed")

// pendingEvent is an event Core still holds for the consumer (after its
// cursor), with its position.
type pendingEvent struct {
	Position int64
	ID       string
	Type     string
	TenantID string
	EntityID string
	Version  int64
}

// engine is the worker's state machine, free of I/O: it applies replayed
// and live events with per-entity version dedup, tracks the position up to
// which the state is complete, learns positions of live events from the
// consumer's pending events, and takes and restores snapshots. It is driven
// by one goroutine; readers of the state take mu.
type engine[S any] struct {
	consumer string
	types    []string // the event-type filters, sorted
	reduce   Reducer[S]
	// poisoned, when set, handles a reducer failure: it returns nil when a
	// retry succeeded, errSkipped when the event was skipped, or the
	// error to stop with.
	poisoned func(ev *Event, err error) error
	initial  func() S
	filter   typeFilter
	// part is the partition the engine applies; the zero value is the
	// whole projection.
	part Partition
	// stallTimeout is how long an event may stay missing from the live
	// stream while later events arrive before it is declared lost.
	stallTimeout time.Duration
	trackTouched bool
	// strict is set when the worker takes every event type: then each
	// entity's events arrive with consecutive versions, and a live event
	// that skips a version proves one was missed.
	strict bool

	mu    sync.RWMutex // guards state against readers; only the driver writes
	state S

	// versions holds, per entity, the version of the last event applied,
	// and which versions changed since the last snapshot.
	versions *entityVersions
	// head is the highest position seen.
	head int64
	// spare is a capture the store is done with, whose slices and maps
	// the next one reuses.
	spare *capture
	// full is set when the next snapshot must be whole: there is no
	// durable snapshot to apply a delta to, or a save failed.
	full bool
	// confirmed is the position up to which every matching event is
	// reflected in state.
	confirmed int64
	// applied counts events reduced since the consumer started from empty.
	applied int64
	// liveIDs holds the ids of events applied live whose position is not
	// yet known to be confirmed.
	liveIDs map[string]struct{}
	// progress counts events received since the last checkpoint attempt.
	progress int
	// uncaptured counts events received since the last snapshot was
	// captured; unlike progress, an attempt that captured nothing (the
	// state not yet exact, say) leaves it as it is.
	uncaptured int
	// touched holds the ids of entities with events applied since the last
	// push of state to Core.
	touched map[string]struct{}
	// stall remembers the event that blocked the last checkpoint attempt
	// while later events had already been applied.
	stallID    string
	stallSince time.Time

	// aheadTenants and aheadIDs are scratch for prefetch, and aheadSum
	// keeps what it read.
	aheadTenants, aheadIDs []string
	aheadSum               uint32

	stats counters
}

// Stats counts what a worker has done since it started.
type Stats struct {
	// Applied is the number of events reduced into the state.
	Applied int64
	// Duplicates is the number of events received again and skipped.
	Duplicates int64
	// Replayed is the number of replay frames received.
	Replayed int64
	// Live is the number of live events received.
	Live int64
	// Checkpoints is the number of snapshots saved.
	Checkpoints int64
	// Acked is the last position acknowledged to Core.
	Acked int64
	// Position is the position up to which the state is complete.
	Position int64
	// Connects is the number of stream connections opened.
	Connects int64
	// Recoveries is the number of times missed events made the worker
	// rebuild from its last snapshot.
	Recoveries int64
	// Pushes is the number of successful state pushes to Core's projection
	// store.
	Pushes int64
	// Skipped is the number of events the poison policy skipped.
	Skipped int64
	// CaughtUp tells whether the worker is caught up now: set at
	// replay_complete, false again while it rebuilds from a snapshot after
	// missed events.
	CaughtUp bool
	// Head is the highest position the worker has seen: of a replayed
	// event, or of the consumer's pending events it reads while live.
	Head int64
	// Lag is the number of positions between Position and Head: how far
	// behind the state is, as far as the worker knows.
	Lag int64
	// LastCheckpoint is when the last snapshot was saved; zero before the
	// first.
	LastCheckpoint time.Time
	// CheckpointDuration is how long the last snapshot's save took.
	CheckpointDuration time.Duration
}

// counters are the Stats, updated by the driver and read by anyone.
type counters struct {
	applied, duplicates, replayed, live, checkpoints, acked, position,
	connects, recoveries, pushes, skipped atomic.Int64
	caughtUp                              atomic.Bool
	head, lastCheckpoint, checkpointNanos atomic.Int64
}

func (c *counters) load() Stats {
	s := Stats{
		Applied: c.applied.Load(), Duplicates: c.duplicates.Load(), Replayed: c.replayed.Load(),
		Live: c.live.Load(), Checkpoints: c.checkpoints.Load(), Acked: c.acked.Load(),
		Position: c.position.Load(), Connects: c.connects.Load(), Recoveries: c.recoveries.Load(),
		Pushes: c.pushes.Load(), Skipped: c.skipped.Load(), CaughtUp: c.caughtUp.Load(),
		Head: c.head.Load(), CheckpointDuration: time.Duration(c.checkpointNanos.Load()),
	}
	s.Lag = max(0, s.Head-s.Position)
	if t := c.lastCheckpoint.Load(); t != 0 {
		s.LastCheckpoint = time.Unix(0, t)
	}
	return s
}

func newEngine[S any](consumer string, reduce Reducer[S], initial func() S, filters []string) *engine[S] {
	if initial == nil {
		initial = func() S { var zero S; return zero }
	}
	types := slices.Clone(filters)
	slices.Sort(types)
	types = slices.Compact(types)
	e := &engine[S]{
		consumer:     consumer,
		types:        types,
		reduce:       reduce,
		initial:      initial,
		filter:       newTypeFilter(filters),
		stallTimeout: 5 * time.Second,
		strict:       len(filters) == 0,
	}
	e.reset()
	return e
}

// reset makes the engine empty: the state before any event.
func (e *engine[S]) reset() {
	e.mu.Lock()
	e.state = e.initial()
	e.mu.Unlock()
	e.versions = newEntityVersions(0)
	e.full = true
	e.confirmed = 0
	e.applied = 0
	e.clearVolatile()
}

// seen records a position the worker has seen.
func (e *engine[S]) seen(pos int64) {
	if pos > e.head {
		e.head = pos
		e.stats.head.Store(pos)
	}
}

// owns reports whether the entity belongs to the engine's partition.
func (e *engine[S]) owns(tenant, entity string) bool {
	return e.part.Count <= 1 || e.part.owns(tenant, entity)
}

func (e *engine[S]) clearVolatile() {
	e.liveIDs = make(map[string]struct{})
	e.progress, e.uncaptured = 0, 0
	e.stallID = ""
	e.stallSince = time.Time{}
}

func (e *engine[S]) version(tenant, entity string) int64 {
	i, _ := e.versions.find(tenant, entity)
	return e.versions.get(i)
}

// apply reduces ev unless it does not match the filters or its entity is
// already at or past its version. It reports whether the reducer ran.
func (e *engine[S]) apply(ev *Event) (bool, error) {
	if !e.filter.match(ev.EventType) || !e.owns(ev.TenantID, ev.EntityID) {
		return false, nil
	}
	vi, vh := -1, uint32(0)
	if ev.Version > 0 {
		// One lookup serves the check and the update.
		vi, vh = e.versions.find(ev.TenantID, ev.EntityID)
		if ev.Version <= e.versions.get(vi) {
			e.stats.duplicates.Add(1)
			return false, nil
		}
	}
	skipped := false
	if err := e.reduceSafe(ev); err != nil {
		if e.poisoned == nil {
			return false, &ReducerError{Event: *ev, Err: err}
		}
		switch err := e.poisoned(ev, err); {
		case errors.Is(err, errSkipped):
			skipped = true
		case err != nil:
			return false, err
		}
	}
	if ev.Version > 0 {
		e.versions.set(vi, vh, ev.TenantID, ev.EntityID, ev.Version)
	}
	if !skipped {
		e.applied++
		e.stats.applied.Add(1)
	}
	if e.trackTouched {
		if e.touched == nil {
			e.touched = make(map[string]struct{})
		}
		e.touched[ev.EntityID] = struct{}{}
	}
	return true, nil
}

// prefetch reads ahead, for a batch of frames about to be applied, what
// applying their events will read of the tables that grow with the
// entities: the version table, and a keyed state at the entity ids (a
// keyed state is usually keyed by entity id; when it is not, this reads
// for nothing). At a million entities each lookup misses the cache, and
// the lookups of one event wait for their misses in turn; reading the
// batch's slots first makes those misses together, and the lookups then
// find them in the cache.
func (e *engine[S]) prefetch(frames []frame) {
	if len(frames) < 2 || e.versions.len() < prefetchEntities {
		return // the tables are in the cache
	}
	tenants, ids := e.aheadTenants[:0], e.aheadIDs[:0]
	for i := range frames {
		// A replayed event the state already holds is skipped before
		// any lookup; a live batch is rare and short.
		f := &frames[i]
		if f.kind == frameReplay && f.position > e.confirmed || f.kind == frameLive && f.batch == nil {
			tenants, ids = append(tenants, f.event.TenantID), append(ids, f.event.EntityID)
		}
	}
	if len(ids) == 0 {
		return
	}
	sum := e.versions.touch(tenants, ids)
	if ks, ok := any(e.state).(keyedState); ok && !isNil(ks) {
		sum += ks.touch(ids)
	}
	e.aheadSum = sum
	clear(tenants)
	clear(ids)
	e.aheadTenants, e.aheadIDs = tenants, ids
}

// prefetchEntities is the number of entities from which prefetch reads
// ahead: below, the tables of versions and of a keyed state take less than
// a megabyte each, and stay in the cache.
const prefetchEntities = 1 << 15

// replay handles an event replayed at position pos. Replay delivers every
// matching event after the consumer's cursor in position order, and the
// cursor never passes confirmed, so after it the state is complete up to
// pos.
func (e *engine[S]) replay(pos int64, ev *Event) error {
	e.stats.replayed.Add(1)
	e.progress++
	e.uncaptured++
	e.seen(pos)
	if len(e.liveIDs) > 0 {
		delete(e.liveIDs, ev.ID)
	}
	if pos <= e.confirmed {
		e.stats.duplicates.Add(1)
		return nil
	}
	ev.Position = pos
	if _, err := e.apply(ev); err != nil {
		return err
	}
	e.confirmed = pos
	e.stats.position.Store(pos)
	return nil
}

// covered records that every matching event of the engine's partition at
// or below pos was replayed to it: a partition group sends a partition only
// its own events, and then the position the replay has reached.
func (e *engine[S]) covered(pos int64) {
	e.seen(pos)
	if pos > e.confirmed {
		e.confirmed = pos
		e.stats.position.Store(pos)
	}
}

// live handles an event received live, without a position.
func (e *engine[S]) live(ev *Event) error {
	e.stats.live.Add(1)
	ev.Position = 0
	if !e.owns(ev.TenantID, ev.EntityID) {
		return nil // another partition's
	}
	if e.strict && ev.Version > 1 {
		if cur := e.version(ev.TenantID, ev.EntityID); ev.Version > cur+1 {
			return fmt.Errorf("%w: %s event %s (entity %q) has version %d, but the last applied is %d",
				errGap, ev.EventType, ev.ID, ev.EntityID, ev.Version, cur)
		}
	}
	ok, err := e.apply(ev)
	if err != nil {
		return err
	}
	if ok {
		e.liveIDs[ev.ID] = struct{}{}
		e.progress++
		e.uncaptured++
	}
	return nil
}

// advance learns how far the state is complete from the consumer's pending
// events (the events after its cursor, in position order) and moves
// confirmed there: to the end of the longest run of pending events that
// have all been applied. It returns errGap when the pending events prove an
// event was missed: a later version of its entity was applied without it,
// or it stayed missing for stallTimeout while later events kept arriving.
func (e *engine[S]) advance(pending []pendingEvent, now time.Time) (int64, error) {
	if len(pending) > 0 {
		e.seen(pending[len(pending)-1].Position)
	}
	pos := e.confirmed
	blocked := -1
	for i := range pending {
		p := &pending[i]
		if p.Position <= pos {
			continue
		}
		if !e.filter.match(p.Type) || !e.owns(p.TenantID, p.EntityID) {
			pos = p.Position
			continue
		}
		if _, ok := e.liveIDs[p.ID]; ok {
			pos = p.Position
			continue
		}
		if p.Version > 0 && p.Version <= e.version(p.TenantID, p.EntityID) {
			return e.confirmed, fmt.Errorf("%w: %s event %s (entity %q, version %d, position %d) never arrived, but a later version of its entity did",
				errGap, p.Type, p.ID, p.EntityID, p.Version, p.Position)
		}
		blocked = i
		break
	}
	if blocked >= 0 {
		if err := e.checkStall(pending[blocked:], now); err != nil {
			return e.confirmed, err
		}
	} else {
		e.stallID = ""
	}
	for i := range pending {
		if pending[i].Position > pos {
			break
		}
		delete(e.liveIDs, pending[i].ID)
	}
	e.confirmed = pos
	e.stats.position.Store(pos)
	return pos, nil
}

// checkStall tracks the event that blocks the checkpoint (rest[0]). An event
// that stays missing while events after it have been applied for
// stallTimeout was lost.
func (e *engine[S]) checkStall(rest []pendingEvent, now time.Time) error {
	later := false
	for i := 1; i < len(rest); i++ {
		if _, ok := e.liveIDs[rest[i].ID]; ok {
			later = true
			break
		}
	}
	switch {
	case !later:
		e.stallID = ""
	case e.stallID != rest[0].ID:
		e.stallID, e.stallSince = rest[0].ID, now
	case now.Sub(e.stallSince) >= e.stallTimeout:
		p := rest[0]
		return fmt.Errorf("%w: %s event %s (entity %q, position %d) has not arrived for %v while later events did",
			errGap, p.Type, p.ID, p.EntityID, p.Position, now.Sub(e.stallSince).Round(time.Millisecond))
	}
	return nil
}

// exact reports whether the state reflects exactly the matching events at
// or below confirmed: no event applied live is still waiting for its
// position to be confirmed. Only an exact state is snapshotted, so that no
// snapshot can hold an event that follows one the worker missed.
func (e *engine[S]) exact() bool { return len(e.liveIDs) == 0 }

// errNotExact is returned by snapshot when the state is not exact.
var errNotExact = errors.New("projection: state holds live events whose positions are not yet confirmed")

// snapshot encodes the confirmed position, and the state and versions:
// whole when e.full is set, otherwise the changes since the last snapshot
// (a delta; a whole-value state is encoded whole in it). It fails with
// errNotExact unless the state is exact. Afterwards the changes are
// forgotten: the caller sets e.full when the snapshot is not saved.
func (e *engine[S]) snapshot(now time.Time) (Snapshot, error) {
	c, err := e.capture(now)
	if err != nil {
		return Snapshot{}, err
	}
	return c.build(false), nil
}

// capture is a snapshot taken but not yet built: the changes in slices,
// copied from the state at a position it is exact at. Building it touches
// nothing of the engine, so that the goroutine that saves the snapshot
// does it, while the worker goes on applying events. A capture the store
// is done with goes back to the engine (recycle), so that the next one
// reuses its slices and maps rather than growing them anew at each
// checkpoint.
type capture struct {
	s        Snapshot // without Entries, Deleted and Versions (unless whole)
	keyed    bool     // entries holds the changes of a keyed state
	entries  entryChanges
	versions versionChanges // the versions changed, in a delta

	// The maps and the encoded members a delta was built in, for the next.
	entryMap   map[string]json.RawMessage
	versionMap map[string]int64
	members    encodedMembers
}

// build returns the snapshot. With encoded set, the versions and entries
// of a delta are encoded members (Snapshot.enc) rather than maps: a store
// built on a chain (FileStore, CoreStore) writes them as they are, which
// spares building maps of every change only to walk them again. The
// snapshot shares the capture's slices and maps.
func (c *capture) build(encoded bool) Snapshot {
	s := c.s
	if c.keyed && len(c.entries.deleted) > 0 {
		s.Deleted = c.entries.deleted
	}
	if !s.Delta {
		if c.keyed {
			s.Entries = c.entries.into(nil)
		}
		return s
	}
	if encoded {
		m := &c.members
		m.versions, m.entries = m.versions[:0], m.entries[:0]
		m.nVersions, m.nEntries = 0, 0
		c.versions.each(func(k []byte, ver int64) { addVersion(m, k, ver) })
		if c.keyed {
			c.entries.each(func(k string, raw json.RawMessage) { addEntry(m, k, raw) })
		}
		s.enc = m
		return s
	}
	if c.keyed {
		clear(c.entryMap)
		c.entryMap = c.entries.into(c.entryMap)
		s.Entries = c.entryMap
	}
	clear(c.versionMap)
	c.versionMap = c.versions.into(c.versionMap)
	s.Versions = c.versionMap
	return s
}

// capture takes what snapshot encodes (see there), leaving the snapshot's
// maps to be built: its cost on the goroutine that applies events is a
// copy of each change.
func (e *engine[S]) capture(now time.Time) (*capture, error) {
	if !e.exact() {
		return nil, errNotExact
	}
	full := e.full
	c := e.spare
	e.spare = nil
	if c == nil {
		c = &capture{}
	}
	c.s = Snapshot{
		Format:     SnapshotFormat,
		Consumer:   e.consumer,
		EventTypes: e.types,
		Position:   e.confirmed,
		Applied:    e.applied,
		SavedAt:    now.UTC(),
		Delta:      !full,
	}
	c.keyed = false
	c.entries.reset()
	c.versions.reset()
	// The driver is the only writer, so it reads the state without the lock.
	if ks, ok := any(e.state).(keyedState); ok && !isNil(ks) {
		if err := ks.changes(full, &c.entries); err != nil {
			e.full = true
			return nil, err
		}
		c.keyed = true
		c.s.Keyed = true
		if !full {
			c.s.Live = int64(ks.Len() + e.versions.len())
		}
	} else {
		data, err := json.Marshal(e.state)
		if err != nil {
			return nil, fmt.Errorf("projection: encode state: %w", err)
		}
		c.s.State = data
	}
	if full {
		c.s.Versions = e.versions.all()
	} else {
		e.versions.changes(&c.versions)
	}
	e.versions.forget()
	e.full = false
	return c, nil
}

// recycle takes back a capture whose snapshot the store is done with
// (see reusable), so that the next capture does not allocate slices and
// maps of thousands of entries anew.
func (e *engine[S]) recycle(c *capture) {
	if c != nil {
		e.spare = c
	}
}

// isNil reports whether a keyed state is a nil pointer.
func isNil(ks keyedState) bool {
	type nilCheck interface{ isNil() bool }
	n, ok := ks.(nilCheck)
	return ok && n.isNil()
}

// saved records that a snapshot is durable, at now, after a save that
// took took.
func (e *engine[S]) saved(now time.Time, took time.Duration) {
	e.stats.checkpoints.Add(1)
	e.stats.lastCheckpoint.Store(now.UnixNano())
	e.stats.checkpointNanos.Store(int64(took))
}

// restore replaces the engine's state with the whole snapshot s, or with
// the empty state when found is false.
func (e *engine[S]) restore(s Snapshot, found bool) error {
	if !found {
		e.reset()
		return nil
	}
	state := e.initial()
	if ks, ok := any(state).(keyedState); ok && !isNil(ks) {
		if !s.Keyed && len(s.State) > 0 {
			return errors.New("projection: snapshot holds a whole-value state, the worker's state is keyed")
		}
		if err := ks.load(s.Entries); err != nil {
			return err
		}
	} else {
		if s.Keyed {
			return errors.New("projection: snapshot holds a keyed state, the worker's state is not")
		}
		if len(s.State) > 0 {
			if err := json.Unmarshal(s.State, &state); err != nil {
				return fmt.Errorf("projection: decode snapshot state: %w", err)
			}
		}
	}
	versions := newEntityVersions(len(s.Versions))
	for k, v := range s.Versions {
		if !strings.Contains(k, "/") {
			return fmt.Errorf("projection: snapshot version key %q is not tenant/entity", k)
		}
		versions.load(k, v)
	}
	e.mu.Lock()
	e.state = state
	e.mu.Unlock()
	e.versions = versions
	e.full = false
	e.confirmed = s.Position
	e.applied = s.Applied
	e.stats.position.Store(s.Position)
	e.clearVolatile()
	return nil
}

// takeTouched returns and forgets the entities touched since the last push.
func (e *engine[S]) takeTouched() []string {
	if len(e.touched) == 0 {
		return nil
	}
	ids := make([]string, 0, len(e.touched))
	for id := range e.touched {
		ids = append(ids, id)
	}
	clear(e.touched)
	return ids
}

// retouch puts back entities whose push failed.
func (e *engine[S]) retouch(ids []string) {
	if e.touched == nil {
		e.touched = make(map[string]struct{})
	}
	for _, id := range ids {
		e.touched[id] = struct{}{}
	}
}
