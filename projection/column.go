package projection

// column is a slice that grows by chunks: past its first chunk, which
// grows as a slice does, it adds chunks of columnChunk elements, so that
// growing it never copies what it holds, and allocates each element's
// memory once. A table of a million entities that doubled its slices
// would copy them some twenty times over and allocate twice what it
// keeps, and memory touched for the first time is not cheap: a page
// fault per page.
type column[T any] struct {
	chunks [][]T
	n      int
}

// columnBits sets the elements of a chunk: 4096.
const (
	columnBits  = 12
	columnChunk = 1 << columnBits
)

// len returns the number of elements.
func (c *column[T]) len() int { return c.n }

// at returns element i, which must be below len.
func (c *column[T]) at(i int) *T { return &c.chunks[i>>columnBits][i&(columnChunk-1)] }

// push appends v and returns its index.
func (c *column[T]) push(v T) int {
	k := c.n >> columnBits
	if k == len(c.chunks) {
		size := columnChunk
		if k == 0 {
			size = 0 // the first chunk grows as a slice does
		}
		c.chunks = append(c.chunks, make([]T, 0, size))
	}
	if k == 0 {
		c.chunks[0] = append(grow(c.chunks[0]), v)
	} else {
		c.chunks[k] = append(c.chunks[k], v)
	}
	c.n++
	return c.n - 1
}

// keyArena keeps keys' bytes one after another in chunks of arenaChunk
// bytes (a longer key gets a chunk of its own): a key costs a copy, not an
// allocation of its own, and the keys are a few blocks without pointers for
// the collector. A key's bytes never move or change once added.
type keyArena struct {
	chunks [][]byte
}

const arenaChunk = 64 << 10

// add copies key into the arena and returns where it is.
func (a *keyArena) add(key []byte) (chunk, pos uint32) {
	k := len(a.chunks) - 1
	if k < 0 || cap(a.chunks[k])-len(a.chunks[k]) < len(key) {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, len(key))))
		k++
	}
	pos = uint32(len(a.chunks[k]))
	a.chunks[k] = append(a.chunks[k], key...)
	return uint32(k), pos
}

// get returns the key of n bytes at chunk and pos.
func (a *keyArena) get(chunk, pos, n uint32) []byte {
	return a.chunks[chunk][pos : pos+n : pos+n]
}
