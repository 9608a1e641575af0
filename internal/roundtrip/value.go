package roundtrip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the JSON kind of a Value.
type Kind uint8

// The JSON kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"null", "boolean", "number", "string", "array", "object"}

// String names the kind as JSON Schema does.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Value is a JSON value that keeps what a decoded value forgets: the order
// of object members (duplicates included) and the spelling of numbers.
type Value struct {
	// Kind is the value's JSON kind.
	Kind Kind
	// Bool is the value of a boolean.
	Bool bool
	// Text is a number's literal text or a string's content.
	Text string
	// Items are the elements of an array.
	Items []*Value
	// Members are the members of an object, in order; a name may repeat,
	// and then the last member wins, as in encoding/json.
	Members []Member
}

// Member is one member of an object.
type Member struct {
	Name  string
	Value *Value
}

// Any returns v as encoding/json decodes it with UseNumber: nil, bool,
// json.Number, string, []any or map[string]any (the last of duplicate
// members wins). It is the form the schema validator takes.
func (v *Value) Any() any {
	switch v.Kind {
	case Bool:
		return v.Bool
	case Number:
		return json.Number(v.Text)
	case String:
		return v.Text
	case Array:
		out := make([]any, len(v.Items))
		for i, it := range v.Items {
			out[i] = it.Any()
		}
		return out
	case Object:
		out := make(map[string]any, len(v.Members))
		for _, m := range v.Members {
			out[m.Name] = m.Value.Any()
		}
		return out
	}
	return nil
}

// FromAny converts a decoded JSON value (as a schema's enum, const or
// example holds it) to a Value with members sorted by name. It reports false
// for a Go value JSON cannot hold.
func FromAny(x any) (*Value, bool) {
	switch x := x.(type) {
	case nil:
		return &Value{Kind: Null}, true
	case bool:
		return &Value{Kind: Bool, Bool: x}, true
	case json.Number:
		return &Value{Kind: Number, Text: string(x)}, true
	case float64:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, false
		}
		return &Value{Kind: Number, Text: string(b)}, true
	case float32:
		return &Value{Kind: Number, Text: strconv.FormatFloat(float64(x), 'g', -1, 32)}, true
	case int:
		return &Value{Kind: Number, Text: strconv.Itoa(x)}, true
	case int64:
		return &Value{Kind: Number, Text: strconv.FormatInt(x, 10)}, true
	case uint64:
		return &Value{Kind: Number, Text: strconv.FormatUint(x, 10)}, true
	case string:
		return &Value{Kind: String, Text: x}, true
	case []any:
		v := &Value{Kind: Array, Items: make([]*Value, 0, len(x))}
		for _, it := range x {
			iv, ok := FromAny(it)
			if !ok {
				return nil, false
			}
			v.Items = append(v.Items, iv)
		}
		return v, true
	case map[string]any:
		names := make([]string, 0, len(x))
		for k := range x {
			names = append(names, k)
		}
		sort.Strings(names)
		v := &Value{Kind: Object}
		for _, k := range names {
			mv, ok := FromAny(x[k])
			if !ok {
				return nil, false
			}
			v.Members = append(v.Members, Member{Name: k, Value: mv})
		}
		return v, true
	}
	return nil, false
}

// Encode writes v as JSON text. With rng set, it spells some characters of
// strings as \u escapes (non-BMP characters as surrogate pairs), and puts
// whitespace between tokens now and then; the value stays the same.
func (v *Value) Encode(rng *rand.Rand) []byte {
	var b bytes.Buffer
	v.encode(&b, rng)
	return b.Bytes()
}

func (v *Value) encode(b *bytes.Buffer, rng *rand.Rand) {
	switch v.Kind {
	case Null:
		b.WriteString("null")
	case Bool:
		b.WriteString(strconv.FormatBool(v.Bool))
	case Number:
		b.WriteString(v.Text)
	case String:
		encodeString(b, v.Text, rng)
	case Array:
		b.WriteByte('[')
		for i, it := range v.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			space(b, rng)
			it.encode(b, rng)
		}
		b.WriteByte(']')
	case Object:
		b.WriteByte('{')
		for i, m := range v.Members {
			if i > 0 {
				b.WriteByte(',')
			}
			space(b, rng)
			encodeString(b, m.Name, rng)
			b.WriteByte(':')
			space(b, rng)
			m.Value.encode(b, rng)
		}
		b.WriteByte('}')
	}
}

func space(b *bytes.Buffer, rng *rand.Rand) {
	if rng != nil && rng.IntN(8) == 0 {
		b.WriteString([]string{" ", "\n", "\t", "\r\n  "}[rng.IntN(4)])
	}
}

// encodeString writes s as a JSON string. Characters JSON requires escaped
// are escaped (in short or \u form); with rng set, other characters are
// sometimes written as \u escapes too.
func encodeString(b *bytes.Buffer, s string, rng *rand.Rand) {
	b.WriteByte('"')
	for _, r := range s {
		uEscape := rng != nil && rng.IntN(6) == 0
		switch {
		case r == '"' || r == '\\':
			if uEscape {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteByte('\\')
				b.WriteRune(r)
			}
		case r < 0x20:
			short := map[rune]string{'\n': `\n`, '\t': `\t`, '\r': `\r`, '\b': `\b`, '\f': `\f`}[r]
			if short != "" && !uEscape {
				b.WriteString(short)
			} else {
				fmt.Fprintf(b, `\u%04X`, r)
			}
		case r == '/' && uEscape:
			b.WriteString(`\/`)
		case uEscape && r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04X`, r1, r2)
		case uEscape && r != utf8.RuneError:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// Clone returns a deep copy of v.
func (v *Value) Clone() *Value {
	c := *v
	if v.Items != nil {
		c.Items = make([]*Value, len(v.Items))
		for i, it := range v.Items {
			c.Items[i] = it.Clone()
		}
	}
	if v.Members != nil {
		c.Members = make([]Member, len(v.Members))
		for i, m := range v.Members {
			c.Members[i] = Member{Name: m.Name, Value: m.Value.Clone()}
		}
	}
	return &c
}
