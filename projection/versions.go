package projection

import (
	"hash/maphash"
	"slices"
)

// entityVersions holds the version of the last event applied per entity,
// keyed by "tenant/entity" (appendEntityKey), and the entities whose version
// changed since the last snapshot, which a delta checkpoint writes.
//
// It is a table built for a catch-up that meets a new entity at every
// event: an open-addressing hash table (see keyIndex) whose slots lead to
// one record per entity (in a column) holding its version, its changed
// mark and where its key is in a keyArena. A lookup reads a slot, a record
// and the key's bytes, where separate slices of keys, versions and marks
// would cost a cache miss each at a million entities; a new entity costs
// appends, not an allocation of its key, and the keys are a few blocks
// without pointers for the collector to scan. The changed set is the marks
// and a list of the marked: marking costs a write to a record already
// read, and a checkpoint walks only the list.
type entityVersions struct {
	seed  maphash.Seed
	slots []indexSlot // a power of two of them, or none
	ents  column[entityVersion]
	keys  keyArena
	dirty []int32 // the indexes marked changed
	key   []byte  // scratch for lookups
	// hashes is scratch for touch.
	hashes []uint32
}

// entityVersion is the record of one entity.
type entityVersion struct {
	ver        int64
	chunk, pos uint32 // where its key is in the arena
	n          uint32 // the key's length
	changed    bool
}

func newEntityVersions(n int) *entityVersions {
	v := &entityVersions{seed: maphash.MakeSeed()}
	if n > 0 {
		v.slots = make([]indexSlot, slotsFor(n))
	}
	return v
}

// len returns the number of entities.
func (v *entityVersions) len() int { return v.ents.len() }

// keyOf returns the key of the entity at index i, in the arena.
func (v *entityVersions) keyOf(i int) []byte {
	e := v.ents.at(i)
	return v.keys.get(e.chunk, e.pos, e.n)
}

// find returns the index of the entity, or -1, without allocating, and
// the hash of its key, for set.
func (v *entityVersions) find(tenant, entity string) (int, uint32) {
	v.key = appendEntityKey(v.key[:0], tenant, entity)
	h := uint32(maphash.Bytes(v.seed, v.key))
	return v.findKey(v.key, h), h
}

// findKey returns the index of key, whose hash is h, or -1.
func (v *entityVersions) findKey(key []byte, h uint32) int {
	if v.ents.len() == 0 {
		return -1
	}
	mask := uint32(len(v.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := v.slots[i]
		if s.idx == 0 {
			return -1
		}
		if s.hash == h {
			e := v.ents.at(int(s.idx - 1))
			if int(e.n) == len(key) && string(v.keys.get(e.chunk, e.pos, e.n)) == string(key) {
				return int(s.idx - 1)
			}
		}
	}
}

// touch reads the slots, records and keys of the entities of events about
// to be applied, given as "tenant", "entity" pairs, so that the lookups
// that follow find them in the cache. Each read of a table of a million
// entities misses the cache; one lookup waits for each of its misses in
// turn, but the reads here are independent of each other, so the
// processor makes many at once. It returns a value made of what it read,
// so that the reads are not dropped as unused.
func (v *entityVersions) touch(tenants, entities []string) uint32 {
	if v.ents.len() == 0 {
		return 0
	}
	hs := v.hashes[:0]
	for i := range entities {
		v.key = appendEntityKey(v.key[:0], tenants[i], entities[i])
		hs = append(hs, uint32(maphash.Bytes(v.seed, v.key)))
	}
	v.hashes = hs
	mask := uint32(len(v.slots) - 1)
	var sum uint32
	for _, h := range hs {
		sum += uint32(v.slots[h&mask].idx)
	}
	for _, h := range hs {
		if s := v.slots[h&mask]; s.idx != 0 && s.hash == h {
			sum += v.ents.at(int(s.idx - 1)).pos
		}
	}
	for _, h := range hs {
		if s := v.slots[h&mask]; s.idx != 0 && s.hash == h {
			e := v.ents.at(int(s.idx - 1))
			sum += uint32(v.keys.chunks[e.chunk][e.pos])
		}
	}
	return sum
}

// get returns the version at index i, 0 when i is -1.
func (v *entityVersions) get(i int) int64 {
	if i < 0 {
		return 0
	}
	return v.ents.at(i).ver
}

// set sets the version of the entity at index i, whose key has hash h
// (both from find; -1 adds the entity), and marks it changed.
func (v *entityVersions) set(i int, h uint32, tenant, entity string, version int64) {
	if i < 0 {
		// find left the key in the scratch buffer, but the caller may
		// have looked up others since: build it again.
		v.key = appendEntityKey(v.key[:0], tenant, entity)
		i = v.add(v.key, h)
	}
	e := v.ents.at(i)
	e.ver = version
	if !e.changed {
		e.changed = true
		v.dirty = append(grow(v.dirty), int32(i))
	}
}

// add adds key, absent, whose hash is h, with version 0, and returns its
// index.
func (v *entityVersions) add(key []byte, h uint32) int {
	if (v.ents.len()+1)*10 > len(v.slots)*7 {
		v.grow()
	}
	chunk, pos := v.keys.add(key)
	i := v.ents.push(entityVersion{chunk: chunk, pos: pos, n: uint32(len(key))})
	mask := uint32(len(v.slots) - 1)
	j := h & mask
	for v.slots[j].idx != 0 {
		j = (j + 1) & mask
	}
	v.slots[j] = indexSlot{idx: int32(i + 1), hash: h}
	return i
}

// grow doubles the slots, moving them without reading the keys.
func (v *entityVersions) grow() {
	old := v.slots
	v.slots = make([]indexSlot, max(2*len(old), 8))
	mask := uint32(len(v.slots) - 1)
	for _, s := range old {
		if s.idx == 0 {
			continue
		}
		j := s.hash & mask
		for v.slots[j].idx != 0 {
			j = (j + 1) & mask
		}
		v.slots[j] = s
	}
}

// load sets the version of key, unmarked, as a snapshot held it.
func (v *entityVersions) load(key string, version int64) {
	h := uint32(maphash.String(v.seed, key))
	i := v.findKey([]byte(key), h)
	if i < 0 {
		i = v.add([]byte(key), h)
	}
	v.ents.at(i).ver = version
}

// all returns every version, keyed by "tenant/entity".
func (v *entityVersions) all() map[string]int64 {
	out := make(map[string]int64, v.ents.len())
	for i := range v.ents.len() {
		out[string(v.keyOf(i))] = v.ents.at(i).ver
	}
	return out
}

// changes appends the versions changed since forget to c.
func (v *entityVersions) changes(c *versionChanges) {
	c.ents = slices.Grow(c.ents, len(v.dirty))
	for _, i := range v.dirty {
		e := v.ents.at(int(i))
		c.ents = append(c.ents, changedVersion{key: v.keys.get(e.chunk, e.pos, e.n), ver: e.ver})
	}
}

// versionChanges are the versions a checkpoint takes, in a slice (see
// entryChanges), with their keys where the table's arena keeps them: a
// key's bytes never move or change, so they need no copy.
type versionChanges struct {
	ents []changedVersion
}

// changedVersion is a version a checkpoint took, and its key.
type changedVersion struct {
	key []byte // in the table's arena
	ver int64
}

// reset empties c, keeping its room.
func (c *versionChanges) reset() {
	clear(c.ents)
	c.ents = c.ents[:0]
}

// each calls f with each version.
func (c *versionChanges) each(f func(key []byte, ver int64)) {
	for _, e := range c.ents {
		f(e.key, e.ver)
	}
}

// into adds the versions to out (a new map when nil) and returns it.
func (c *versionChanges) into(out map[string]int64) map[string]int64 {
	if out == nil {
		out = make(map[string]int64, len(c.ents))
	}
	c.each(func(key []byte, ver int64) { out[string(key)] = ver })
	return out
}

// forget unmarks the changed versions.
func (v *entityVersions) forget() {
	for _, i := range v.dirty {
		v.ents.at(int(i)).changed = false
	}
	v.dirty = v.dirty[:0]
}
