package runtime

import (
	"math/rand/v2"
	"testing"
)

// strByByte is the reading of a JSON string one byte at a time: the oracle
// of TestStrMatchesByteLoop. It returns the end of the string (just past
// its closing quote), whether it is plain ASCII without escapes, and ok.
func strByByte(data []byte) (end int, plain, ok bool) {
	if len(data) == 0 || data[0] != '"' {
		return 0, false, false
	}
	plain = true
	for i := 1; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1, plain, true
		case c == '\\':
			plain = false
			if i+1 >= len(data) {
				return 0, false, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(data) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
					return 0, false, false
				}
				i += 5
			default:
				return 0, false, false
			}
		case c >= 0x80:
			plain = false
		case c < 0x20:
			return 0, false, false
		}
	}
	return 0, false, false
}

// TestStrMatchesByteLoop checks the string scan that reads eight bytes at a
// time against the byte-at-a-time oracle, on strings of every length up to
// 40 with bytes that need a look (quote, backslash, escapes, control
// characters, DEL, bytes of UTF-8) at random places, including just before
// and after each eight-byte boundary.
func TestStrMatchesByteLoop(t *testing.T) {
	alphabet := []byte{'a', 'Z', ' ', '~', 0x7f, '"', '\\', 'u', '0', 'f', 'n', 0x1f, 0x00, 0x80, 0xc3, 0xa9, 0xff, '/'}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20000; n++ {
		size := rng.IntN(41)
		data := make([]byte, 1, size+2)
		data[0] = '"'
		for range size {
			if rng.IntN(4) == 0 {
				data = append(data, alphabet[rng.IntN(len(alphabet))])
			} else {
				data = append(data, 'a'+byte(rng.IntN(26)))
			}
		}
		if rng.IntN(2) == 0 {
			data = append(data, '"')
		}
		wantEnd, wantPlain, wantOK := strByByte(data)
		r := JSONReader{data: data}
		raw, plain, err := r.str()
		if (err == nil) != wantOK || err == nil && (len(raw) != wantEnd || plain != wantPlain || r.pos != wantEnd) {
			t.Fatalf("%q: got raw %q plain %v err %v pos %d, want end %d plain %v ok %v", data, raw, plain, err, r.pos, wantEnd, wantPlain, wantOK)
		}
	}
}

// TestJSONSpecial8 checks the eight-byte test on each byte value at each
// position, among plain bytes.
func TestJSONSpecial8(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			w := uint64(0)
			for i := 7; i >= 0; i-- {
				w = w<<8 | uint64(b[i])
			}
			want := c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
			if got := jsonSpecial8(w) == 0; got != want {
				t.Fatalf("byte %#x at %d: jsonSpecial8(w) == 0 is %v, want %v", c, pos, got, want)
			}
		}
	}
}
