package projection

import (
	"encoding/json"
	"fmt"
	"iter"
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
	m     map[string]V
	dirty map[string]change[V] // keys set or deleted since the last checkpoint
}

// change is what became of a key since the last checkpoint: its value is
// kept here too, so a checkpoint does not look it up again in a large map.
type change[V any] struct {
	v       V
	deleted bool
}

// NewMap returns an empty Map.
func NewMap[V any]() *Map[V] {
	return &Map[V]{m: make(map[string]V), dirty: make(map[string]change[V])}
}

// Get returns the value of key and whether it is present.
func (m *Map[V]) Get(key string) (V, bool) {
	v, ok := m.m[key]
	return v, ok
}

// Set sets the value of key.
func (m *Map[V]) Set(key string, v V) {
	m.m[key] = v
	m.dirty[key] = change[V]{v: v}
}

// Delete removes key.
func (m *Map[V]) Delete(key string) {
	if _, ok := m.m[key]; !ok {
		return
	}
	delete(m.m, key)
	m.dirty[key] = change[V]{deleted: true}
}

// Len returns the number of keys.
func (m *Map[V]) Len() int { return len(m.m) }

// All returns the keys and values, in no particular order.
func (m *Map[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for k, v := range m.m {
			if !yield(k, v) {
				return
			}
		}
	}
}

// MarshalJSON encodes the Map as a JSON object.
func (m *Map[V]) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(m.m)
}

// UnmarshalJSON replaces the Map's contents with a JSON object's members.
func (m *Map[V]) UnmarshalJSON(data []byte) error {
	var in map[string]V
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	if in == nil {
		in = make(map[string]V)
	}
	m.m = in
	m.dirty = make(map[string]change[V])
	return nil
}

// keyedState is what the worker needs from a keyed state (a *Map[V]) to
// checkpoint it by changes. Its methods are unexported: Map is the one
// implementation.
type keyedState interface {
	// changes encodes the entries set since the last call (all of them
	// when all is true) into set (a new map when nil) and lists the keys
	// deleted, then forgets them.
	changes(all bool, set map[string]json.RawMessage) (map[string]json.RawMessage, []string, error)
	// load replaces the contents with entries and forgets the changes.
	load(entries map[string]json.RawMessage) error
	// fresh returns a new empty state of the same type; it may be called
	// on a nil receiver.
	fresh() any
}

func (m *Map[V]) changes(all bool, set map[string]json.RawMessage) (map[string]json.RawMessage, []string, error) {
	var deleted []string
	enc := func(k string, v V) error {
		b, err := encodeValue(v)
		if err != nil {
			return fmt.Errorf("projection: encode state of %q: %w", k, err)
		}
		set[k] = b
		return nil
	}
	if all {
		if set == nil {
			set = make(map[string]json.RawMessage, len(m.m))
		}
		for k, v := range m.m {
			if err := enc(k, v); err != nil {
				return nil, nil, err
			}
		}
	} else {
		if set == nil {
			set = make(map[string]json.RawMessage, len(m.dirty))
		}
		for k, c := range m.dirty {
			if c.deleted {
				deleted = append(deleted, k)
				continue
			}
			if err := enc(k, c.v); err != nil {
				return nil, nil, err
			}
		}
	}
	clear(m.dirty)
	return set, deleted, nil
}

func (m *Map[V]) load(entries map[string]json.RawMessage) error {
	out := make(map[string]V, len(entries))
	for k, raw := range entries {
		var v V
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("projection: decode state of %q: %w", k, err)
		}
		out[k] = v
	}
	m.m = out
	m.dirty = make(map[string]change[V])
	return nil
}

func (*Map[V]) fresh() any { return NewMap[V]() }

func (m *Map[V]) isNil() bool { return m == nil }

// encodeValue encodes v as encoding/json does, without reflection for the
// plain numbers and booleans counters are made of.
func encodeValue(v any) ([]byte, error) {
	switch x := v.(type) {
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(nil, x, 10), nil
	case bool:
		return strconv.AppendBool(nil, x), nil
	}
	return json.Marshal(v)
}
