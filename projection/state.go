package projection

import (
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strconv"
)

// Map is a keyed state: a map from string keys (entity ids, usually) to
// values of type V, which the worker checkpoints by changes. Use *Map[V] as
// the worker's state type S for read models with many entries: a
// checkpoint then encodes and writes only the entries set or deleted since
// the previous one, so its cost follows the events, not the size of the
// state. A whole-value state (any other S) is encoded in full at every
// checkpoint, which suits small read models.
//
// Set records a change; a value changed in place (a pointer V modified
// through Get) without Set is not checkpointed, so call Set after every
// change. Keys are strings because snapshots are JSON objects and entity
// ids are strings.
//
// A Map is not safe for concurrent use: the worker's reducer writes it, and
// readers go through Handle.Read, which holds the worker's lock.
type Map[V any] struct {
	idx  *keyIndex
	vals column[mapValue[V]] // by index
	// dirty lists the indexes marked changed since the last checkpoint;
	// deleted holds the keys deleted since then.
	dirty   []int32
	deleted map[string]struct{}
}

// mapValue is the value at an index of a Map, whether a key has the
// index (the index of a deleted key waits for reuse), and whether it was
// set since the last checkpoint.
type mapValue[V any] struct {
	v             V
	live, changed bool
}

// NewMap returns an empty Map.
func NewMap[V any]() *Map[V] {
	return newMapSized[V](0)
}

func newMapSized[V any](n int) *Map[V] {
	return &Map[V]{idx: newKeyIndex(n)}
}

// Get returns the value of key and whether it is present.
func (m *Map[V]) Get(key string) (V, bool) {
	if m.idx != nil {
		if i := m.idx.find(key); i >= 0 {
			return m.vals.at(i).v, true
		}
	}
	var zero V
	return zero, false
}

// Set sets the value of key.
func (m *Map[V]) Set(key string, v V) {
	if m.idx == nil {
		*m = *NewMap[V]()
	}
	i, h := m.idx.findHash(key)
	if i < 0 {
		var fresh bool
		i, fresh = m.idx.addHash(key, h)
		if fresh {
			m.vals.push(mapValue[V]{})
		}
		if len(m.deleted) > 0 {
			delete(m.deleted, key)
		}
	}
	mv := m.vals.at(i)
	mv.v, mv.live = v, true
	if !mv.changed {
		mv.changed = true
		m.dirty = append(grow(m.dirty), int32(i))
	}
}

// Delete removes key.
func (m *Map[V]) Delete(key string) {
	if m.idx == nil {
		return
	}
	i := m.idx.remove(key)
	if i < 0 {
		return
	}
	var zero V
	mv := m.vals.at(i)
	mv.v, mv.live = zero, false
	if m.deleted == nil {
		m.deleted = make(map[string]struct{})
	}
	m.deleted[key] = struct{}{}
}

// Len returns the number of keys.
func (m *Map[V]) Len() int {
	if m.idx == nil {
		return 0
	}
	return m.idx.len()
}

// All returns the keys and values, in no particular order.
func (m *Map[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		if m.idx == nil {
			return
		}
		for i := range m.idx.cap() {
			if mv := m.vals.at(i); mv.live && !yield(m.idx.key(i), mv.v) {
				return
			}
		}
	}
}

// MarshalJSON encodes the Map as a JSON object.
func (m *Map[V]) MarshalJSON() ([]byte, error) {
	if m == nil || m.Len() == 0 {
		return []byte("{}"), nil
	}
	out := make(map[string]V, m.Len())
	for k, v := range m.All() {
		out[k] = v
	}
	return json.Marshal(out)
}

// UnmarshalJSON replaces the Map's contents with a JSON object's members.
func (m *Map[V]) UnmarshalJSON(data []byte) error {
	var in map[string]V
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	n := newMapSized[V](len(in))
	for k, v := range in {
		n.put(k, v)
	}
	*m = *n
	return nil
}

// put adds key, absent, with v, unmarked.
func (m *Map[V]) put(key string, v V) {
	m.idx.add(key)
	m.vals.push(mapValue[V]{v: v, live: true})
}

// forget unmarks the changes.
func (m *Map[V]) forget() {
	for _, i := range m.dirty {
		m.vals.at(int(i)).changed = false
	}
	m.dirty = m.dirty[:0]
	clear(m.deleted)
}

// keyedState is what the worker needs from a keyed state (a *Map[V]) to
// checkpoint it by changes. Its methods are unexported: Map is the one
// implementation.
type keyedState interface {
	// changes appends to c the entries set since the last call (all of
	// them when all is true), encoded, and the keys deleted, then forgets
	// them.
	changes(all bool, c *entryChanges) error
	// load replaces the contents with entries and forgets the changes.
	load(entries map[string]json.RawMessage) error
	// fresh returns a new empty state of the same type; it may be called
	// on a nil receiver.
	fresh() any
	// Len returns the number of keys.
	Len() int
	// touch reads ahead what lookups of keys will read, and returns a
	// value made of it (see engine.prefetch).
	touch(keys []string) uint32
}

// entryChanges are the changes of a keyed state, as a checkpoint takes
// them: in slices, which cost a copy per change, rather than in the
// snapshot's map, which the goroutine that saves the snapshot builds.
type entryChanges struct {
	keys []string
	// vals holds the encoded values one after another: value i ends at
	// ends[i].
	vals    []byte
	ends    []int
	deleted []string
}

// reset empties c, keeping its room.
func (c *entryChanges) reset() {
	clear(c.keys)
	clear(c.deleted)
	c.keys, c.vals, c.ends, c.deleted = c.keys[:0], c.vals[:0], c.ends[:0], c.deleted[:0]
}

// each calls f with each entry; the values share c.vals.
func (c *entryChanges) each(f func(key string, raw json.RawMessage)) {
	start := 0
	for i, k := range c.keys {
		end := c.ends[i]
		f(k, c.vals[start:end:end])
		start = end
	}
}

// into adds the entries to set (a new map when nil) and returns it. The
// values share c.vals.
func (c *entryChanges) into(set map[string]json.RawMessage) map[string]json.RawMessage {
	if set == nil {
		set = make(map[string]json.RawMessage, len(c.keys))
	}
	c.each(func(k string, raw json.RawMessage) { set[k] = raw })
	return set
}

func (m *Map[V]) changes(all bool, c *entryChanges) error {
	if m.idx == nil {
		*m = *NewMap[V]()
	}
	enc := func(i int) error {
		k := m.idx.key(i)
		var err error
		if c.vals, err = appendValue(c.vals, m.vals.at(i).v); err != nil {
			return fmt.Errorf("projection: encode state of %q: %w", k, err)
		}
		c.keys = append(c.keys, k)
		c.ends = append(c.ends, len(c.vals))
		return nil
	}
	n := len(m.dirty)
	if all {
		n = m.Len()
	}
	c.keys = slices.Grow(c.keys, n)
	c.ends = slices.Grow(c.ends, n)
	if all {
		for i := range m.idx.cap() {
			if !m.vals.at(i).live {
				continue
			}
			if err := enc(i); err != nil {
				return err
			}
		}
	} else {
		for _, i := range m.dirty {
			if !m.vals.at(int(i)).live {
				continue // deleted since
			}
			if err := enc(int(i)); err != nil {
				return err
			}
		}
		for k := range m.deleted {
			c.deleted = append(c.deleted, k)
		}
	}
	m.forget()
	return nil
}

func (m *Map[V]) load(entries map[string]json.RawMessage) error {
	n := newMapSized[V](len(entries))
	for k, raw := range entries {
		var v V
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("projection: decode state of %q: %w", k, err)
		}
		n.put(k, v)
	}
	*m = *n
	return nil
}

func (*Map[V]) fresh() any { return NewMap[V]() }

func (m *Map[V]) touch(keys []string) uint32 {
	if m.idx == nil {
		return 0
	}
	return m.idx.touch(keys)
}

func (m *Map[V]) isNil() bool { return m == nil }

// appendValue appends the encoding of v, as encoding/json writes it,
// without reflection for the plain numbers and booleans counters are made
// of.
func appendValue[V any](b []byte, v V) ([]byte, error) {
	switch x := any(v).(type) {
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	}
	data, err := json.Marshal(v)
	return append(b, data...), err
}
