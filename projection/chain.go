package projection

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/allsource-go/allsource/runtime"
)

// Compaction thresholds of a chain. A compaction reads and writes the whole
// state; what it gains is what Load no longer reads: the entries that later
// ones superseded. So deltas are merged into the base once the superseded
// part of what the chain keeps weighs twice the live part and at least
// minCompactBytes, or once there are maxDeltas of them (which bounds the
// reads of a Load). Deltas of a keyed state say how many entries the whole
// snapshot holds (Snapshot.Live), from which the live part is estimated;
// for others, the deltas count as superseded once they weigh twice the
// base. Deltas that only add entries (a read model growing) supersede
// nothing, and merging them would rewrite the whole state again and again
// for no gain.
const (
	minCompactBytes = 16 << 20
	compactRatio    = 2
	maxDeltas       = 512
)

// blobs is the storage a chain keeps its records in: record seq 0 of a
// name is its base, records 1, 2, ... its deltas. put is atomic and
// durable when it returns.
type blobs interface {
	put(ctx context.Context, name string, seq int64, data []byte) error
	get(ctx context.Context, name string, seq int64) (data []byte, found bool, err error)
	remove(ctx context.Context, name string, seq int64) error
}

// chain implements a SnapshotStore's logic over blobs: a base record
// holding a whole snapshot and the sequence number of the last delta it
// includes (through), and delta records numbered from through+1 on. Load
// reads the base and then deltas through+1, through+2, ... up to the first
// missing one. A whole Save writes a new base that includes every delta
// numbered so far; a delta Save writes the next number. A compaction, in
// the background, merges the base and the deltas written so far into a
// new base, then removes those deltas; a crash in between leaves deltas
// the base already includes, which Load does not read.
type chain struct {
	b  blobs
	wg sync.WaitGroup

	bufs sync.Pool // of *[]byte, for encoding deltas

	mu    sync.Mutex // serializes base writes and loads; guards names
	idle  *sync.Cond // signaled when a compaction ends
	names map[string]*chainState
}

// chainState is what a chain knows of one name's records.
type chainState struct {
	through    int64 // the last delta the base includes
	next       int64 // the number of the next delta
	written    int64 // the last delta written successfully
	gen        int64 // bumped by each base write
	baseBytes  int64
	deltaBytes int64 // of the deltas after through
	deltas     int
	compacting bool
	// entries counts the versions, entries and deletions in the base and
	// the deltas after it, and live those in the merged snapshot (0 when
	// unknown).
	entries, live int64
}

// recordEntries returns the number of versions, entries and deletions s
// holds.
func recordEntries(s *Snapshot) int64 {
	n := len(s.Versions) + len(s.Entries) + len(s.Deleted)
	if s.enc != nil {
		n += s.enc.nVersions + s.enc.nEntries
	}
	return int64(n)
}

// add counts delta d, of size bytes, into st.
func (st *chainState) add(d *Snapshot, size int64) {
	st.deltaBytes += size
	st.deltas++
	st.entries += recordEntries(d)
	st.live = 0
	if d.Keyed {
		st.live = d.Live
	}
}

// compactDue reports whether the deltas should be merged into the base.
func (st *chainState) compactDue() bool {
	if st.deltas >= maxDeltas {
		return true
	}
	total := st.baseBytes + st.deltaBytes
	if st.live > 0 && st.entries > 0 {
		live := total * min(st.live, st.entries) / st.entries
		return total-live >= max(compactRatio*live, minCompactBytes)
	}
	return st.deltaBytes >= max(compactRatio*st.baseBytes, minCompactBytes)
}

// record is a base or delta as stored.
type record struct {
	Snapshot
	// Through is, in a base, the last delta the base includes.
	Through int64 `json:"through,omitempty"`
	// Seq is a delta's number.
	Seq int64 `json:"seq,omitempty"`

	// members, when set, are members of the versions and entries, already
	// encoded, written before those of the maps.
	members *encodedMembers
}

// encodedMembers are members of a record's versions and entries objects,
// encoded: the members of an object, comma-separated, without its braces.
type encodedMembers struct {
	versions, entries   []byte
	nVersions, nEntries int
}

// addVersion appends a member of the versions of e.
func addVersion[K string | []byte](e *encodedMembers, key K, v int64) {
	if e.nVersions > 0 {
		e.versions = append(e.versions, ',')
	}
	e.nVersions++
	e.versions = appendString(e.versions, key)
	e.versions = append(e.versions, ':')
	e.versions = strconv.AppendInt(e.versions, v, 10)
}

// addEntry appends a member of the entries of e.
func addEntry[K string | []byte](e *encodedMembers, key K, raw json.RawMessage) {
	if e.nEntries > 0 {
		e.entries = append(e.entries, ',')
	}
	e.nEntries++
	e.entries = appendString(e.entries, key)
	e.entries = append(e.entries, ':')
	e.entries = append(e.entries, raw...)
}

func newChain(b blobs) *chain {
	c := &chain{b: b, names: make(map[string]*chainState)}
	c.idle = sync.NewCond(&c.mu)
	return c
}

// wait waits for the compactions in progress.
func (c *chain) wait() { c.wg.Wait() }

func (c *chain) load(ctx context.Context, name string) (Snapshot, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, st, found, err := c.read(ctx, name, -1)
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("projection: load snapshot: %w", err)
	}
	if old := c.names[name]; old != nil {
		// Numbers of deltas that failed are not skipped: a failed write
		// left no record (Load would have read it).
		st.gen = old.gen + 1
	}
	c.names[name] = st
	return s, found, nil
}

// read reads the base of name and the deltas after it, up to upTo (or all
// of them when upTo < 0), and merges them.
func (c *chain) read(ctx context.Context, name string, upTo int64) (Snapshot, *chainState, bool, error) {
	st := &chainState{next: 1}
	baseData, found, err := c.b.get(ctx, name, 0)
	if err != nil || !found {
		return Snapshot{}, st, false, err
	}
	through, err := recordThrough(baseData)
	if err != nil {
		return Snapshot{}, st, false, err
	}
	// The deltas are read first, so that the base's maps are made with
	// room for what they add: a map of a million entries that grows while
	// merging rehashes its keys again.
	var deltas []Snapshot
	var deltaSizes []int64
	extra, total := 0, 0
	seq := through + 1
	for ; upTo < 0 || seq <= upTo; seq++ {
		data, found, err := c.b.get(ctx, name, seq)
		if err != nil {
			return Snapshot{}, st, false, err
		}
		if !found {
			break
		}
		d, err := decodeRecord(data, name, 0, 0)
		if err != nil {
			return Snapshot{}, st, false, fmt.Errorf("delta %d: %w", seq, err)
		}
		if !d.Delta || d.Seq != seq {
			return Snapshot{}, st, false, fmt.Errorf("delta %d of %q is not the delta numbered %d", seq, name, seq)
		}
		deltas = append(deltas, d.Snapshot)
		deltaSizes = append(deltaSizes, int64(len(data)))
		extra += max(len(d.Versions), len(d.Entries))
		if d.Keyed {
			total = int(d.Live)
		}
	}
	// Deltas that rewrite the same entries add none: the last one's Live
	// bounds the room to make.
	base, err := decodeRecord(baseData, name, extra, total)
	if err != nil {
		return Snapshot{}, st, false, err
	}
	if base.Delta {
		return Snapshot{}, st, false, fmt.Errorf("snapshot of %q: base record is a delta", name)
	}
	s := base.Snapshot
	st.through, st.baseBytes = base.Through, int64(len(baseData))
	st.entries = recordEntries(&s)
	st.live = st.entries
	for i := range deltas {
		st.add(&deltas[i], deltaSizes[i])
		s.Merge(deltas[i])
	}
	st.next, st.written = seq, seq-1
	s.Delta = false
	return s, st, true, nil
}

// recordThrough reads the "through" member of a base record without
// decoding the rest.
func recordThrough(data []byte) (int64, error) {
	d := runtime.JSONReader{Alias: true}
	d.ResetBytes(data)
	var through int64
	it, err := d.ObjIter()
	for err == nil && it.Next() {
		if string(it.Key()) == "through" {
			through, err = runtime.DecodeJSONInt64(&d)
		} else {
			err = d.Skip()
		}
	}
	if err == nil {
		err = it.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("decode: %w", err)
	}
	return through, nil
}

func decodeRecord(data []byte, name string, extra, total int) (record, error) {
	r, err := parseRecordRoom(data, extra, total)
	if err != nil {
		return record{}, fmt.Errorf("decode: %w", err)
	}
	s, err := checkSnapshot(r.Snapshot, name)
	if err != nil {
		return record{}, err
	}
	r.Snapshot = s
	return r, nil
}

// state returns what the chain knows of name, reading it when nothing is
// known yet. c.mu must be held.
func (c *chain) state(ctx context.Context, name string) (*chainState, error) {
	if st := c.names[name]; st != nil {
		return st, nil
	}
	_, st, _, err := c.read(ctx, name, -1)
	if err != nil {
		return nil, err
	}
	c.names[name] = st
	return st, nil
}

func (c *chain) save(ctx context.Context, name string, s Snapshot) error {
	if s.Delta {
		return c.saveDelta(ctx, name, s)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.state(ctx, name)
	if err != nil {
		return fmt.Errorf("projection: save snapshot: %w", err)
	}
	// A compaction writes the base outside the lock: a whole save waits
	// for it, or the compaction's older base could land last.
	for st.compacting {
		c.idle.Wait()
	}
	if c.names[name] != st {
		return c.save(ctx, name, s) // a load came in between
	}
	// The new base includes every delta numbered so far, written or not.
	through := st.next - 1
	data, err := encodeRecord(&record{Snapshot: s, Through: through, members: s.enc})
	if err != nil {
		return fmt.Errorf("projection: encode snapshot: %w", err)
	}
	if err := c.b.put(ctx, name, 0, data); err != nil {
		// The old base may or may not have been replaced: start over from
		// what is stored next time.
		delete(c.names, name)
		return fmt.Errorf("projection: save snapshot: %w", err)
	}
	old := st.through
	n := recordEntries(&s)
	*st = chainState{through: through, next: through + 1, written: through, gen: st.gen + 1, baseBytes: int64(len(data)), entries: n, live: n}
	for seq := old + 1; seq <= through; seq++ {
		_ = c.b.remove(ctx, name, seq) // leftovers are never read
	}
	return nil
}

func (c *chain) saveDelta(ctx context.Context, name string, s Snapshot) error {
	c.mu.Lock()
	st, err := c.state(ctx, name)
	if err != nil {
		c.mu.Unlock()
		return fmt.Errorf("projection: save snapshot delta: %w", err)
	}
	if st.written != st.next-1 {
		// A delta before this one was not written: this one would not be
		// read. The worker saves a whole snapshot after a failed Save.
		c.mu.Unlock()
		return fmt.Errorf("projection: save snapshot delta: delta %d of %q was not written; save a whole snapshot", st.next-1, name)
	}
	seq := st.next
	st.next++
	c.mu.Unlock()

	// A delta is encoded in a buffer of an earlier one, which put is done
	// with when it returns: a worker saves one every fraction of a second.
	buf, _ := c.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer c.bufs.Put(buf)
	data, err := encodeRecordTo(*buf, &record{Snapshot: s, Seq: seq, members: s.enc})
	if err != nil {
		return fmt.Errorf("projection: encode snapshot delta: %w", err)
	}
	*buf = data
	if err := c.b.put(ctx, name, seq, data); err != nil {
		return fmt.Errorf("projection: save snapshot delta: %w", err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names[name] != st || st.written != seq-1 {
		return nil // a whole save or a load came in between
	}
	st.written = seq
	st.add(&s, int64(len(data)))
	if !st.compacting && st.compactDue() {
		st.compacting = true
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.compact(name, st)
		}()
	}
	return nil
}

// compact merges the base of name and its deltas up to the last written
// into a new base, unless a whole save or a load replaced the base
// meanwhile. It reads, merges and writes without the lock, so that delta
// saves go on meanwhile (a whole save waits for it); failures leave the
// records as they were.
func (c *chain) compact(name string, st *chainState) {
	ctx := context.Background()
	c.mu.Lock()
	gen, upTo := st.gen, st.written
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		st.compacting = false
		c.idle.Broadcast()
		c.mu.Unlock()
	}()
	data, read, err := c.compactRecords(ctx, name, upTo)
	if err != nil {
		return
	}
	c.mu.Lock()
	stale := c.names[name] != st || st.gen != gen
	c.mu.Unlock()
	if stale {
		return
	}
	// A load may replace the chain's state while the base is written; the
	// new base holds exactly what the old base and its deltas up to upTo
	// held, so a load reads the same snapshot from either.
	if err := c.b.put(ctx, name, 0, data); err != nil {
		c.mu.Lock()
		if c.names[name] == st {
			delete(c.names, name)
		}
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names[name] != st || st.gen != gen {
		return // the deltas stay; a base that includes them ignores them
	}
	old := st.through
	st.gen++
	st.through = upTo
	st.baseBytes = int64(len(data))
	st.deltaBytes -= read.deltaBytes
	st.deltas -= read.deltas
	st.entries += read.merged - read.entries
	for seq := old + 1; seq <= upTo; seq++ {
		_ = c.b.remove(ctx, name, seq)
	}
}

// compacted is what compactRecords read and wrote.
type compacted struct {
	deltas     int
	deltaBytes int64
	entries    int64 // the versions, entries and deletions read
	merged     int64 // the versions and entries of the new base
}

// compactRecords reads the base of name and its deltas up to upTo and
// returns the encoding of a new base that includes them. It merges from
// the newest delta to the oldest, keeping of each key the newest value
// only, so that it allocates for the live keys alone, and it does not
// decode the base into maps: the base's members that no delta supersedes
// are copied, as they are, into the new base.
func (c *chain) compactRecords(ctx context.Context, name string, upTo int64) ([]byte, compacted, error) {
	var out compacted
	baseData, found, err := c.b.get(ctx, name, 0)
	if err != nil {
		return nil, out, err
	}
	if !found {
		return nil, out, fmt.Errorf("snapshot of %q: no base record", name)
	}
	through, err := recordThrough(baseData)
	if err != nil {
		return nil, out, err
	}
	if through >= upTo {
		return nil, out, fmt.Errorf("the base includes delta %d already", upTo)
	}
	deltas := make([][]byte, 0, upTo-through)
	for seq := through + 1; seq <= upTo; seq++ {
		data, found, err := c.b.get(ctx, name, seq)
		if err != nil {
			return nil, out, err
		}
		if !found {
			return nil, out, fmt.Errorf("delta %d of %q is missing", seq, name)
		}
		deltas = append(deltas, data)
		out.deltaBytes += int64(len(data))
	}
	out.deltas = len(deltas)

	// What the deltas decide, newest first: a key's version, or its entry
	// or its deletion. Within a delta, deletions come after the entries
	// set (Merge), so a deletion overrides an entry of the same delta.
	type decided struct {
		raw   json.RawMessage // nil for a deleted key
		delta int
	}
	versions := make(map[string]int64)
	entries := make(map[string]decided)
	known := func(key []byte) (decided, bool) {
		if utf8.Valid(key) {
			d, ok := entries[string(key)]
			return d, ok
		}
		d, ok := entries[runtime.JSONKey(key)]
		return d, ok
	}
	var newest record
	keyed := true // while the records read since the newest are all keyed
	for i := len(deltas) - 1; i >= 0; i-- {
		seq := through + 1 + int64(i)
		visit := &recordVisitor{
			version: func(key []byte, v int64) {
				out.entries++
				if utf8.Valid(key) {
					if _, ok := versions[string(key)]; !ok {
						versions[string(key)] = v
					}
					return
				}
				k := runtime.JSONKey(key)
				if _, ok := versions[k]; !ok {
					versions[k] = v
				}
			},
			entry: func(key []byte, raw json.RawMessage) {
				out.entries++
				if _, ok := known(key); !ok && keyed {
					entries[runtime.JSONKey(key)] = decided{raw: raw, delta: i}
				}
			},
			deleted: func(key string) {
				out.entries++
				if d, ok := entries[key]; (!ok || d.delta == i) && keyed {
					entries[key] = decided{delta: i}
				}
			},
		}
		r, err := parseRecordVisit(deltas[i], 0, 0, visit)
		if err == nil {
			r.Snapshot, err = checkSnapshot(r.Snapshot, name)
		}
		if err != nil {
			return nil, out, fmt.Errorf("delta %d: %w", seq, err)
		}
		if !r.Delta || r.Seq != seq {
			return nil, out, fmt.Errorf("delta %d of %q is not the delta numbered %d", seq, name, seq)
		}
		if i == len(deltas)-1 {
			newest = r
		}
		// Merging a delta that is not keyed drops the entries before it.
		keyed = keyed && r.Keyed
	}

	// The base's members that no delta decided go as they are.
	var m encodedMembers
	base, err := parseRecordVisit(baseData, 0, 0, &recordVisitor{
		version: func(key []byte, v int64) {
			out.entries++
			if utf8.Valid(key) {
				if _, ok := versions[string(key)]; ok {
					return
				}
			} else if _, ok := versions[runtime.JSONKey(key)]; ok {
				return
			}
			addVersion(&m, key, v)
		},
		entry: func(key []byte, raw json.RawMessage) {
			out.entries++
			if _, ok := known(key); !ok && keyed && newest.Keyed {
				addEntry(&m, key, raw)
			}
		},
		deleted: func(string) { out.entries++ },
	})
	if err == nil {
		base.Snapshot, err = checkSnapshot(base.Snapshot, name)
	}
	if err != nil {
		return nil, out, fmt.Errorf("base: %w", err)
	}
	if base.Delta {
		return nil, out, fmt.Errorf("snapshot of %q: base record is a delta", name)
	}
	for k, v := range versions {
		addVersion(&m, k, v)
	}
	if newest.Keyed {
		for k, d := range entries {
			if d.raw != nil {
				addEntry(&m, k, d.raw)
			}
		}
	}
	out.merged = int64(m.nVersions + m.nEntries)

	s := newest.Snapshot
	s.Versions, s.Entries, s.Deleted = nil, nil, nil
	s.Delta, s.Live = false, 0
	if s.Keyed {
		s.State = nil
	}
	data, err := encodeRecord(&record{Snapshot: s, Through: upTo, members: &m})
	return data, out, err
}
