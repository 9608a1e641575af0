package projection

import (
	"hash/maphash"
	"slices"
)

// keyIndex numbers string keys: it maps each key to a dense index (0, 1,
// 2, ... in the order the keys were added, reusing the indexes of removed
// keys), so that what goes with a key (a Map's value and marks) lives in
// a column.
//
// It is an open-addressing hash table that keeps 32 bits of each key's
// hash in its slot. Growing it moves the slots without reading the keys
// again, and a lookup compares those bits before the key: a Go map rehashes
// every key when it grows, reading its bytes, which at a million keys is a
// cache miss per key, and that growth was most of the cost of folding a
// million entities.
type keyIndex struct {
	seed  maphash.Seed
	slots []indexSlot    // a power of two of them, or none
	keys  column[string] // by index; "" once removed
	free  []int32        // removed indexes, for reuse
	n     int            // keys present
	// hashes is scratch for touch.
	hashes []uint32
}

// indexSlot is a slot of a keyIndex: the key's index plus one (0 is an
// empty slot) and the low 32 bits of its hash.
type indexSlot struct {
	idx  int32
	hash uint32
}

// newKeyIndex returns an index sized for n keys.
func newKeyIndex(n int) *keyIndex {
	x := &keyIndex{seed: maphash.MakeSeed()}
	if n > 0 {
		x.slots = make([]indexSlot, slotsFor(n))
	}
	return x
}

// slotsFor returns the table size for n keys: a power of two at most 70%
// full.
func slotsFor(n int) int {
	s := 8
	for s*7 < n*10 {
		s *= 2
	}
	return s
}

// len returns the number of keys present.
func (x *keyIndex) len() int { return x.n }

// cap returns the number of indexes in use or free: every index is below it.
func (x *keyIndex) cap() int { return x.keys.len() }

// key returns the key at index i, "" when removed.
func (x *keyIndex) key(i int) string { return *x.keys.at(i) }

func (x *keyIndex) hash(key string) uint32 { return uint32(maphash.String(x.seed, key)) }

// find returns the index of key, or -1.
func (x *keyIndex) find(key string) int {
	if x.n == 0 {
		return -1
	}
	return x.findWith(key, x.hash(key))
}

// findHash is find, returning the key's hash too, for addHash.
func (x *keyIndex) findHash(key string) (int, uint32) {
	h := x.hash(key)
	return x.findWith(key, h), h
}

// findWith is find for a key whose hash is h.
func (x *keyIndex) findWith(key string, h uint32) int {
	if x.n == 0 {
		return -1
	}
	mask := uint32(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.idx == 0 {
			return -1
		}
		if s.hash == h && x.key(int(s.idx-1)) == key {
			return int(s.idx - 1)
		}
	}
}

// touch reads the slots and keys that lookups of keys would read (see
// entityVersions.touch), and returns a value made of what it read.
func (x *keyIndex) touch(keys []string) uint32 {
	if x.n == 0 {
		return 0
	}
	hs := x.hashes[:0]
	for _, k := range keys {
		hs = append(hs, x.hash(k))
	}
	x.hashes = hs
	mask := uint32(len(x.slots) - 1)
	var sum uint32
	for _, h := range hs {
		sum += uint32(x.slots[h&mask].idx)
	}
	for _, h := range hs {
		if s := x.slots[h&mask]; s.idx != 0 && s.hash == h {
			sum += uint32(len(x.key(int(s.idx - 1))))
		}
	}
	for _, h := range hs {
		if s := x.slots[h&mask]; s.idx != 0 && s.hash == h {
			if k := x.key(int(s.idx - 1)); k != "" {
				sum += uint32(k[0])
			}
		}
	}
	return sum
}

// add adds key, which must not be present, and returns its index, and
// whether the index is new (at cap()-1) rather than reused.
func (x *keyIndex) add(key string) (int, bool) { return x.addHash(key, x.hash(key)) }

// addHash is add for a key whose hash is h.
func (x *keyIndex) addHash(key string, h uint32) (int, bool) {
	if (x.n+1)*10 > len(x.slots)*7 {
		x.grow()
	}
	var idx int
	fresh := len(x.free) == 0
	if fresh {
		idx = x.keys.push(key)
	} else {
		idx = int(x.free[len(x.free)-1])
		x.free = x.free[:len(x.free)-1]
		*x.keys.at(idx) = key
	}
	x.insert(indexSlot{idx: int32(idx + 1), hash: h})
	x.n++
	return idx, fresh
}

func (x *keyIndex) insert(s indexSlot) {
	mask := uint32(len(x.slots) - 1)
	i := s.hash & mask
	for x.slots[i].idx != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

func (x *keyIndex) grow() {
	old := x.slots
	x.slots = make([]indexSlot, max(2*len(old), 8))
	for _, s := range old {
		if s.idx != 0 {
			x.insert(s)
		}
	}
}

// remove removes key and returns the index it had, or -1. The index is
// reused by a later add.
func (x *keyIndex) remove(key string) int {
	if x.n == 0 {
		return -1
	}
	h := x.hash(key)
	mask := uint32(len(x.slots) - 1)
	i := h & mask
	for {
		s := x.slots[i]
		if s.idx == 0 {
			return -1
		}
		if s.hash == h && x.key(int(s.idx-1)) == key {
			break
		}
		i = (i + 1) & mask
	}
	idx := int(x.slots[i].idx - 1)
	// Backward-shift deletion: move up the slots after i that would be
	// unreachable behind an empty slot.
	for j := (i + 1) & mask; x.slots[j].idx != 0; j = (j + 1) & mask {
		home := x.slots[j].hash & mask
		// Slot j may move to i when its home is not in (i, j].
		if (j-home)&mask >= (j-i)&mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = indexSlot{}
	*x.keys.at(idx) = ""
	x.free = append(x.free, int32(idx))
	x.n--
	return idx
}

// grow returns s with room for one more element, doubling its capacity
// when full: append grows a large slice by a quarter, so a slice appended
// to a million times would be copied some thirty times over.
func grow[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	return slices.Grow(s, max(len(s), 16))
}
