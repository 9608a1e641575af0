package runtime

// Interner keeps one copy of the short strings it is given, so that
// strings that repeat from value to value (event types, tenants, entity
// ids) are allocated once. Its String method is a JSONReader's Strings
// hook. A zero Interner is ready to use; it is not safe for concurrent use.
//
// It is a cache of internSlots strings of at most internMaxLen bytes, each
// string in the slot its hash gives: a string that is not there is copied
// into its slot, in place of what was there. So its memory is bounded
// whatever the input, a string that repeats is found at the cost of a hash,
// and one that does not costs about what a plain copy does. Longer strings
// (ids, text) rarely repeat and are copied as they are.
type Interner struct {
	slots *[internSlots]string
}

const (
	internSlots  = 1024
	internMaxLen = 32
)

// String returns b as a string, the one kept for it when b is short.
func (in *Interner) String(b []byte) string {
	if len(b) > internMaxLen {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	if in.slots == nil {
		in.slots = new([internSlots]string)
	}
	s := &in.slots[h%internSlots]
	if *s != string(b) {
		*s = string(b)
	}
	return *s
}
