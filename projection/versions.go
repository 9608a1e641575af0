package projection

import "slices"

// entityVersions holds the version of the last event applied per entity,
// keyed by entityKey ("tenant/entity"), and the entities whose version
// changed since the last snapshot, which a delta checkpoint writes. The
// changed set is a mark per entity and a list of the marked: marking costs
// a slice write, and a checkpoint walks only the list.
type entityVersions struct {
	idx     *keyIndex
	ver     []int64 // by index
	changed []bool  // by index
	dirty   []int32 // the indexes marked in changed
	key     []byte  // scratch for lookups
}

func newEntityVersions(n int) *entityVersions {
	return &entityVersions{idx: newKeyIndex(n), ver: make([]int64, 0, n), changed: make([]bool, 0, n)}
}

// find returns the index of the entity, or -1, without allocating.
func (v *entityVersions) find(tenant, entity string) int {
	v.key = append(append(append(v.key[:0], tenant...), '/'), entity...)
	return v.idx.findBytes(v.key)
}

// get returns the version at index i, 0 when i is -1.
func (v *entityVersions) get(i int) int64 {
	if i < 0 {
		return 0
	}
	return v.ver[i]
}

// set sets the version of the entity at index i (from find; -1 adds the
// entity) and marks it changed.
func (v *entityVersions) set(i int, tenant, entity string, version int64) {
	if i < 0 {
		i = v.add(entityKey(tenant, entity))
	}
	v.ver[i] = version
	if !v.changed[i] {
		v.changed[i] = true
		v.dirty = append(grow(v.dirty), int32(i))
	}
}

func (v *entityVersions) add(key string) int {
	i, _ := v.idx.add(key) // never removed: every index is new
	v.ver = append(grow(v.ver), 0)
	v.changed = append(grow(v.changed), false)
	return i
}

// load sets the version of key, unmarked, as a snapshot held it.
func (v *entityVersions) load(key string, version int64) {
	i := v.idx.find(key)
	if i < 0 {
		i = v.add(key)
	}
	v.ver[i] = version
}

// all returns every version, keyed by entityKey.
func (v *entityVersions) all() map[string]int64 {
	out := make(map[string]int64, v.idx.len())
	for i, k := range v.idx.keys {
		out[k] = v.ver[i]
	}
	return out
}

// changes appends the versions changed since forget to c.
func (v *entityVersions) changes(c *versionChanges) {
	c.keys = slices.Grow(c.keys, len(v.dirty))
	c.vers = slices.Grow(c.vers, len(v.dirty))
	for _, i := range v.dirty {
		c.keys = append(c.keys, v.idx.keys[i])
		c.vers = append(c.vers, v.ver[i])
	}
}

// versionChanges are the versions a checkpoint takes, in slices (see
// entryChanges).
type versionChanges struct {
	keys []string
	vers []int64
}

// reset empties c, keeping its room.
func (c *versionChanges) reset() {
	clear(c.keys)
	c.keys, c.vers = c.keys[:0], c.vers[:0]
}

// into adds the versions to out (a new map when nil) and returns it.
func (c *versionChanges) into(out map[string]int64) map[string]int64 {
	if out == nil {
		out = make(map[string]int64, len(c.keys))
	}
	for i, k := range c.keys {
		out[k] = c.vers[i]
	}
	return out
}

// forget unmarks the changed versions.
func (v *entityVersions) forget() {
	for _, i := range v.dirty {
		v.changed[i] = false
	}
	v.dirty = v.dirty[:0]
}
