package runtime

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"

	"github.com/go-faster/jx"
)

// JSONReader is what generated decoders read from: JSON text held in
// memory, read token by token, and how to keep what is decoded. A zero
// JSONReader is ready to use (give it its input with ResetBytes, or use
// DecodeBytes); it is not safe for concurrent use. Reusing one for value
// after value, with DecodeBytes, saves taking one from a pool for each.
//
// It reads the subset of jx's Decoder API that generated code uses (Next,
// Null, ObjIter, ArrIter, Skip, Raw, Num, Bool, Float64), with jx's types,
// in one tight pass over the bytes: the generated decoders of a document
// spend most of their time here, and reading from memory only, with no
// refill of a buffer to allow for, keeps each step small. It accepts
// exactly the JSON that encoding/json accepts, nested at most
// maxJSONDepth deep.
type JSONReader struct {
	data  []byte
	pos   int
	depth int
	// Strings, when not nil, gives the string for the bytes of each JSON
	// string decoded that has no escapes and is ASCII, instead of a copy of
	// them: an Interner's String, so that strings that repeat from value to
	// value are allocated once. The bytes are valid only during the call.
	Strings func([]byte) string
	// Alias makes raw JSON values (json.RawMessage members) share the
	// input instead of copying it: the input must then stay unmodified as
	// long as they are in use. It saves a copy per raw value when the
	// caller owns the input, as a stream reader owns each frame.
	Alias bool
}

// maxJSONDepth bounds the nesting of arrays and objects, as encoding/json
// does, so that a hostile input cannot exhaust the stack.
const maxJSONDepth = 10000

// JSONSyntaxError is malformed JSON met by a JSONReader.
type JSONSyntaxError struct {
	// Offset is the byte offset in the input where the problem is.
	Offset int
	// Msg says what was expected.
	Msg string
}

// Error gives the offset and what was expected.
func (e *JSONSyntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.Offset, e.Msg)
}

// errorf reports a syntax error at the current offset. It is kept out of
// line, as literal is: generated decoders call the reader's small methods
// at every member, and inlining their cold error paths there made the
// compiler spend a third of its time on a large package.
//
//go:noinline
func (r *JSONReader) errorf(msg string) error {
	return &JSONSyntaxError{Offset: r.pos, Msg: msg}
}

// ResetBytes makes data the input of r, read from its start.
func (r *JSONReader) ResetBytes(data []byte) {
	r.data, r.pos, r.depth = data, 0, 0
}

func (r *JSONReader) skipSpace() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// Next returns the type of the next value, without reading it (but after
// the white space before it); jx.Invalid at the end of the input or before
// a byte that starts no JSON value.
func (r *JSONReader) Next() jx.Type {
	r.skipSpace()
	if r.pos >= len(r.data) {
		return jx.Invalid
	}
	switch c := r.data[r.pos]; c {
	case '"':
		return jx.String
	case '{':
		return jx.Object
	case '[':
		return jx.Array
	case 'n':
		return jx.Null
	case 't', 'f':
		return jx.Bool
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return jx.Number
		}
	}
	return jx.Invalid
}

// Null reads a null.
func (r *JSONReader) Null() error {
	r.skipSpace()
	return r.literal("null")
}

// Bool reads true or false.
func (r *JSONReader) Bool() (bool, error) {
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == 't' {
		return true, r.literal("true")
	}
	if r.pos < len(r.data) && r.data[r.pos] == 'f' {
		return false, r.literal("false")
	}
	return false, r.errorf("want a boolean")
}

//go:noinline
func (r *JSONReader) literal(lit string) error {
	if len(r.data)-r.pos < len(lit) || string(r.data[r.pos:r.pos+len(lit)]) != lit {
		return r.errorf("want " + lit)
	}
	r.pos += len(lit)
	return nil
}

// Num reads a number and returns its text.
func (r *JSONReader) Num() (jx.Num, error) {
	r.skipSpace()
	start := r.pos
	if err := r.number(); err != nil {
		return nil, err
	}
	return jx.Num(r.data[start:r.pos]), nil
}

// Float64 reads a number as a float64; one out of its range is an error,
// as it is for encoding/json.
func (r *JSONReader) Float64() (float64, error) {
	num, err := r.Num()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return 0, fmt.Errorf("number %s: %w", num, err)
	}
	return f, nil
}

// Skip reads the next value, checking it.
func (r *JSONReader) Skip() error {
	r.skipSpace()
	return r.skipValue(r.depth)
}

// Raw reads the next value, checking it, and returns its text: a slice of
// the input.
func (r *JSONReader) Raw() (jx.Raw, error) {
	r.skipSpace()
	start := r.pos
	if err := r.skipValue(r.depth); err != nil {
		return nil, err
	}
	return jx.Raw(r.data[start:r.pos:r.pos]), nil
}

// skipValue reads the value at the cursor, nested depth deep.
func (r *JSONReader) skipValue(depth int) error {
	if r.pos >= len(r.data) {
		return r.errorf("want a JSON value")
	}
	switch c := r.data[r.pos]; {
	case c == '"':
		_, _, err := r.str()
		return err
	case c == '{', c == '[':
		if depth >= maxJSONDepth {
			return r.errorf("nested too deep")
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		r.pos++
		r.skipSpace()
		if r.pos < len(r.data) && r.data[r.pos] == end {
			r.pos++
			return nil
		}
		for {
			if c == '{' {
				if err := r.key(); err != nil {
					return err
				}
			}
			r.skipSpace()
			if err := r.skipValue(depth + 1); err != nil {
				return err
			}
			r.skipSpace()
			if r.pos >= len(r.data) {
				return r.errorf("unterminated object or array")
			}
			switch r.data[r.pos] {
			case ',':
				r.pos++
				r.skipSpace()
			case end:
				r.pos++
				return nil
			default:
				return r.errorf("want ',' or '" + string(end) + "'")
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return r.number()
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	}
	return r.errorf("want a JSON value")
}

// key reads a member name and the colon after it, leaving the cursor
// before the value.
func (r *JSONReader) key() error {
	_, _, err := r.str()
	if err != nil {
		return err
	}
	r.skipSpace()
	if r.pos >= len(r.data) || r.data[r.pos] != ':' {
		return r.errorf("want ':'")
	}
	r.pos++
	return nil
}

// str reads the string at the cursor and returns it with its quotes, and
// whether it is plain: ASCII without escapes, so that its contents are its
// value.
func (r *JSONReader) str() (raw []byte, plain bool, err error) {
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		return nil, false, r.errorf("want a string")
	}
	start := r.pos
	plain = true
	i := start + 1
	for {
		// Eight bytes at a time, up to the first that needs a look; then
		// byte by byte over the last few.
		for i+8 <= len(r.data) {
			if m := jsonSpecial8(binary.LittleEndian.Uint64(r.data[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(r.data) {
			if c := r.data[i]; c >= 0x20 && c < 0x80 && c != '"' && c != '\\' {
				i++
				continue
			}
			break
		}
		if i >= len(r.data) {
			r.pos = len(r.data)
			return nil, false, r.errorf("unterminated string")
		}
		switch c := r.data[i]; {
		case c == '"':
			r.pos = i + 1
			return r.data[start:r.pos], plain, nil
		case c == '\\':
			plain = false
			if i+1 >= len(r.data) {
				r.pos = i
				return nil, false, r.errorf("unterminated escape")
			}
			switch r.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(r.data) || !isHex(r.data[i+2]) || !isHex(r.data[i+3]) || !isHex(r.data[i+4]) || !isHex(r.data[i+5]) {
					r.pos = i
					return nil, false, r.errorf("bad \\u escape")
				}
				i += 6
			default:
				r.pos = i
				return nil, false, r.errorf("bad escape")
			}
		case c >= 0x80:
			plain = false // UTF-8, checked when decoded
			i++
		default:
			r.pos = i
			return nil, false, r.errorf("control character in string")
		}
	}
}

// jsonSpecial8 returns, for the eight bytes of w (in memory order), a mask
// whose lowest set bit is the high bit of the first byte that a JSON string
// does not hold as it is ('"', '\\', a control character or a byte of
// UTF-8), or 0 when there is none. Each test is the classic "has a byte
// below n": (x - n per byte) &^ x & the high bits, whose lowest set bit is
// exact (a borrow only moves up, past the first byte found).
func jsonSpecial8(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := w ^ ones*'"'
	backslash := w ^ ones*'\\'
	return ((w-ones*0x20)&^w | (quote-ones)&^quote | (backslash-ones)&^backslash | w) & highs
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number reads a number, checking it against JSON's grammar.
func (r *JSONReader) number() error {
	start := r.pos
	digits := func() int {
		n := 0
		for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
			r.pos++
			n++
		}
		return n
	}
	if r.pos < len(r.data) && r.data[r.pos] == '-' {
		r.pos++
	}
	if r.pos < len(r.data) && r.data[r.pos] == '0' {
		r.pos++
		if r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
			return r.errorf("want no digit after a leading 0")
		}
	} else if digits() == 0 {
		r.pos = start
		return r.errorf("want a number")
	}
	if r.pos < len(r.data) && r.data[r.pos] == '.' {
		r.pos++
		if digits() == 0 {
			return r.errorf("want a digit after '.'")
		}
	}
	if r.pos < len(r.data) && (r.data[r.pos] == 'e' || r.data[r.pos] == 'E') {
		r.pos++
		if r.pos < len(r.data) && (r.data[r.pos] == '+' || r.data[r.pos] == '-') {
			r.pos++
		}
		if digits() == 0 {
			return r.errorf("want a digit in the exponent")
		}
	}
	return nil
}

// JSONObjIter iterates over the members of an object: Next moves to the
// next member, whose name Key returns and whose value the caller reads
// from the reader before calling Next again.
type JSONObjIter struct {
	r    *JSONReader
	key  []byte
	n    int
	done bool
	err  error
}

// ObjIter starts reading an object.
func (r *JSONReader) ObjIter() (JSONObjIter, error) {
	r.skipSpace()
	if r.pos >= len(r.data) || r.data[r.pos] != '{' {
		return JSONObjIter{}, r.errorf("want an object")
	}
	if r.depth >= maxJSONDepth {
		return JSONObjIter{}, r.errorf("nested too deep")
	}
	r.pos++
	r.depth++
	return JSONObjIter{r: r}, nil
}

// Next moves to the next member; it returns false after the last one, or
// on an error, which Err returns.
func (it *JSONObjIter) Next() bool {
	if it.done || it.err != nil {
		return false
	}
	r := it.r
	r.skipSpace()
	if r.pos >= len(r.data) {
		it.err = r.errorf("unterminated object")
		return false
	}
	switch c := r.data[r.pos]; {
	case c == '}':
		r.pos++
		r.depth--
		it.done = true
		return false
	case it.n > 0 && c != ',':
		it.err = r.errorf("want ',' or '}'")
		return false
	case it.n > 0:
		r.pos++
		r.skipSpace()
	}
	raw, plain, err := r.str()
	if err != nil {
		it.err = err
		return false
	}
	if plain {
		it.key = raw[1 : len(raw)-1]
	} else {
		var k string
		if err := json.Unmarshal(raw, &k); err != nil {
			it.err = err
			return false
		}
		it.key = []byte(k)
	}
	r.skipSpace()
	if r.pos >= len(r.data) || r.data[r.pos] != ':' {
		it.err = r.errorf("want ':'")
		return false
	}
	r.pos++
	it.n++
	return true
}

// Key returns the name of the current member, unescaped; it is valid until
// the next call of Next.
func (it *JSONObjIter) Key() []byte { return it.key }

// Err returns the error that ended the iteration, if any.
func (it *JSONObjIter) Err() error { return it.err }

// JSONArrIter iterates over the elements of an array: Next moves to the
// next element, which the caller reads from the reader before calling Next
// again.
type JSONArrIter struct {
	r    *JSONReader
	n    int
	done bool
	err  error
}

// ArrIter starts reading an array.
func (r *JSONReader) ArrIter() (JSONArrIter, error) {
	r.skipSpace()
	if r.pos >= len(r.data) || r.data[r.pos] != '[' {
		return JSONArrIter{}, r.errorf("want an array")
	}
	if r.depth >= maxJSONDepth {
		return JSONArrIter{}, r.errorf("nested too deep")
	}
	r.pos++
	r.depth++
	return JSONArrIter{r: r}, nil
}

// Next moves to the next element; it returns false after the last one, or
// on an error, which Err returns.
func (it *JSONArrIter) Next() bool {
	if it.done || it.err != nil {
		return false
	}
	r := it.r
	r.skipSpace()
	if r.pos >= len(r.data) {
		it.err = r.errorf("unterminated array")
		return false
	}
	switch c := r.data[r.pos]; {
	case c == ']':
		r.pos++
		r.depth--
		it.done = true
		return false
	case it.n > 0 && c != ',':
		it.err = r.errorf("want ',' or ']'")
		return false
	case it.n > 0:
		r.pos++
	}
	it.n++
	return true
}

// Err returns the error that ended the iteration, if any.
func (it *JSONArrIter) Err() error { return it.err }
