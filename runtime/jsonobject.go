package runtime

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
	"unsafe"
)

// An object decoder is data, not code. A generated struct type describes its
// members once, in a JSONObject held in a package variable (each member's
// name, the offset of its field, and how its value decodes), and its
// DecodeJSON method hands that table to DecodeJSONObject. The loop over the
// members, the lookup of each name and the decoding of every scalar member
// are then compiled once, here, instead of once per type in every generated
// package: a large API's client package compiles in a fraction of the time a
// switch per type takes, and decodes about as fast.
//
// The offsets are unsafe.Offsetof of the generated struct's fields, constants
// the compiler computes, and each member's MemberKind or Decode function matches
// its field's Go type by construction: the generator writes both from the same
// model. Nothing here is meant to be written by hand.

// JSONObject describes how DecodeJSONObject decodes a generated struct type.
type JSONObject struct {
	// Type is the Go type's name, for errors.
	Type string
	// Members are the members the schema describes, in the schema's
	// order: the order in which they usually come.
	Members []JSONMember
	// Required names the required members counted in JSONMember.Bit, in
	// the order of their bits; a decoded object that lacks one is refused
	// with a *MissingMemberError naming the first missing.
	Required []string
	// Extra decodes a member the schema does not describe, whose name is
	// key, into the map of additional properties at ExtraOffset in the
	// struct. When Extra is nil such members are skipped.
	Extra       func(d *JSONReader, p unsafe.Pointer, key []byte) error
	ExtraOffset uintptr
}

// JSONMember describes one member of a JSONObject.
type JSONMember struct {
	// Name is the member's name in JSON.
	Name string
	// Offset is the offset of the member's field in the struct.
	Offset uintptr
	// Kind says how the field decodes when Decode is nil: a scalar kind,
	// possibly combined with one of InOpt, InNullable, InSlice,
	// InOptSlice, InMap or InOptMap.
	Kind MemberKind
	// Decode, when not nil, decodes the member's value into the field at p.
	Decode func(d *JSONReader, p unsafe.Pointer) error
	// Bit is the member's bit in the set of required members seen (see
	// JSONObject.Required), zero for a member that is not counted.
	Bit uint64
}

// MemberKind is how a member of a JSONObject decodes without a function of its
// own: a scalar kind, alone or combined (with |) with one holder.
type MemberKind uint8

// The scalar kinds of MemberKind: the field (or the value its holder holds)
// is, or has as its underlying type, the Go type named, decoded as the
// DecodeJSON...To function of that type does.
const (
	MemberString  MemberKind = iota + 1 // string
	MemberInt64                         // int64
	MemberInt32                         // int32
	MemberFloat64                       // float64
	MemberBool                          // bool
	MemberTime                          // time.Time
	MemberRaw                           // []byte holding raw JSON, such as json.RawMessage

	memberScalarMask MemberKind = 0x0f
)

// The holders of MemberKind: the field holds its scalar in an Opt, a Nullable,
// a slice, an Opt of a slice, a map or an Opt of a map, decoded as
// DecodeJSONOpt, DecodeJSONNullable, DecodeJSONSlice, DecodeJSONOptSlice,
// DecodeJSONMap and DecodeJSONOptMap do. A map's values have exactly the
// scalar's Go type.
const (
	InOpt MemberKind = (iota + 1) << 4
	InNullable
	InSlice
	InOptSlice
	InMap
	InOptMap

	memberHolderMask MemberKind = 0xf0
)

// DecodeJSONObject decodes a JSON object into the struct at v, which o
// describes, in one pass: each member the schema describes with its Kind or
// Decode function, each other member with o.Extra (or skipped), and then the
// check that every required member came. The caller handles null and resets
// the struct first, as a generated DecodeJSON method does.
func DecodeJSONObject(d *JSONReader, v unsafe.Pointer, o *JSONObject) error {
	members, err := d.ObjIter()
	if err != nil {
		return JSONTypeError(o.Type, err)
	}
	var seen uint64
	next := 0 // where the next member is looked for first
	for members.Next() {
		key := members.Key()
		// The member after the last one found is most often the one: it
		// is compared here as sameName does, without a call.
		i, same := next, false
		if ms := o.Members; i < len(ms) && len(ms[i].Name) == len(key) {
			name := unsafe.Slice(unsafe.StringData(ms[i].Name), len(key))
			switch n := len(key); {
			case n >= 8 && n <= 16:
				same = same8to16(name, key)
			case n >= 4 && n < 8:
				same = same4to7(name, key)
			case n < 4:
				same = sameUpTo3(name, key)
			default:
				same = string(name) == string(key)
			}
		}
		if !same {
			i = o.member(key, next)
		}
		if i < 0 {
			if err := o.extra(d, v, key); err != nil {
				return JSONMemberError(o.Type, JSONKey(key), err)
			}
			continue
		}
		next = i + 1
		m := &o.Members[i]
		p := unsafe.Add(v, m.Offset)
		// The plain scalars, the commonest members, are decoded here,
		// without one more call.
		switch m.Kind {
		case 0:
			err = m.Decode(d, p)
		case MemberString:
			err = DecodeJSONStringTo(d, (*string)(p))
		case MemberInt64:
			err = DecodeJSONInt64To(d, (*int64)(p))
		case MemberInt32:
			err = DecodeJSONInt32To(d, (*int32)(p))
		case MemberFloat64:
			err = DecodeJSONFloat64To(d, (*float64)(p))
		case MemberBool:
			err = DecodeJSONBoolTo(d, (*bool)(p))
		case MemberRaw:
			err = DecodeJSONRawTo(d, (*json.RawMessage)(p))
		case MemberTime:
			err = DecodeJSONTime(d, (*time.Time)(p))
		default:
			err = decodeMemberKind(d, p, m.Kind)
		}
		if err != nil {
			return JSONMemberError(o.Type, m.Name, err)
		}
		seen |= m.Bit
	}
	if err := members.Err(); err != nil {
		return JSONTypeError(o.Type, err)
	}
	if n := len(o.Required); n > 0 && seen != 1<<n-1 {
		return JSONMissing(o.Type, seen, o.Required...)
	}
	return nil
}

// member returns the index of the member named key, or -1. It looks from
// the index from on first, then from the start: members usually come in
// the order of the schema, which is the order of o.Members, so that a
// member is most often found at the first comparison. A comparison of
// names of different lengths costs no more than comparing the lengths.
func (o *JSONObject) member(key []byte, from int) int {
	ms := o.Members
	for i := from; i < len(ms); i++ {
		if len(ms[i].Name) == len(key) && sameName(ms[i].Name, key) {
			return i
		}
	}
	for i := 0; i < from && i < len(ms); i++ {
		if len(ms[i].Name) == len(key) && sameName(ms[i].Name, key) {
			return i
		}
	}
	return -1
}

// sameName reports whether name and key, of the same length, hold the same
// bytes. Names of up to 16 bytes, most of them, are compared with a few
// loads of each instead of a call to the runtime's memory comparison, which
// would cost about as much as decoding the member. DecodeJSONObject makes
// the same comparison inline for the member it expects.
func sameName(name string, key []byte) bool {
	b := unsafe.Slice(unsafe.StringData(name), len(key))
	switch n := len(key); {
	case n >= 8 && n <= 16:
		return same8to16(b, key)
	case n >= 4 && n < 8:
		return same4to7(b, key)
	case n < 4:
		return sameUpTo3(b, key)
	}
	return name == string(key)
}

// same8to16 compares a and b, of the same length from 8 to 16 bytes, with
// their first and last eight bytes.
func same8to16(a, b []byte) bool {
	return binary.LittleEndian.Uint64(a) == binary.LittleEndian.Uint64(b) &&
		binary.LittleEndian.Uint64(a[len(a)-8:]) == binary.LittleEndian.Uint64(b[len(a)-8:])
}

// sameUpTo3 compares a and b, of the same length up to 3 bytes, byte by
// byte.
func sameUpTo3(a, b []byte) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// same4to7 compares a and b, of the same length from 4 to 7 bytes, with
// their first and last four bytes.
func same4to7(a, b []byte) bool {
	return binary.LittleEndian.Uint32(a) == binary.LittleEndian.Uint32(b) &&
		binary.LittleEndian.Uint32(a[len(a)-4:]) == binary.LittleEndian.Uint32(b[len(a)-4:])
}

// extra decodes or skips the member named key, which o does not describe.
func (o *JSONObject) extra(d *JSONReader, v unsafe.Pointer, key []byte) error {
	if o.Extra == nil {
		return d.Skip()
	}
	return o.Extra(d, unsafe.Add(v, o.ExtraOffset), key)
}

// DecodeJSONExtraRaw is a JSONObject's Extra for additional properties held
// as raw JSON: it decodes the member named key into the
// map[string]json.RawMessage at p, making it when nil.
func DecodeJSONExtraRaw(d *JSONReader, p unsafe.Pointer, key []byte) error {
	_, err := DecodeJSONExtra(d, (*map[string]json.RawMessage)(p), key, DecodeJSONRawTo[json.RawMessage])
	return err
}

// decodeMemberKind decodes a member of kind k, a scalar in a holder (the
// plain scalars are decoded in DecodeJSONObject's loop), into the field at
// p.
func decodeMemberKind(d *JSONReader, p unsafe.Pointer, k MemberKind) error {
	h := k & memberHolderMask
	switch k & memberScalarMask {
	case MemberString:
		return decodeJSONHeld(d, p, h, DecodeJSONStringTo[string])
	case MemberInt64:
		return decodeJSONHeld(d, p, h, DecodeJSONInt64To[int64])
	case MemberInt32:
		return decodeJSONHeld(d, p, h, DecodeJSONInt32To[int32])
	case MemberFloat64:
		return decodeJSONHeld(d, p, h, DecodeJSONFloat64To[float64])
	case MemberBool:
		return decodeJSONHeld(d, p, h, DecodeJSONBoolTo[bool])
	case MemberTime:
		return decodeJSONHeld(d, p, h, DecodeJSONTime)
	case MemberRaw:
		return decodeJSONHeld(d, p, h, DecodeJSONRawTo[json.RawMessage])
	}
	return fmt.Errorf("member of unknown kind %#x", uint8(k))
}

// decodeJSONHeld decodes into the field at p, which holds a T as the holder h
// says, with dec.
func decodeJSONHeld[T any](d *JSONReader, p unsafe.Pointer, h MemberKind, dec func(*JSONReader, *T) error) error {
	switch h {
	case 0:
		return dec(d, (*T)(p))
	case InOpt:
		return DecodeJSONOpt(d, (*Opt[T])(p), dec)
	case InNullable:
		return DecodeJSONNullable(d, (*Nullable[T])(p), dec)
	case InSlice:
		return DecodeJSONSlice(d, (*[]T)(p), dec)
	case InOptSlice:
		return DecodeJSONOptSlice(d, (*Opt[[]T])(p), dec)
	case InMap:
		return DecodeJSONMap(d, (*map[string]T)(p), dec)
	case InOptMap:
		return DecodeJSONOptMap(d, (*Opt[map[string]T])(p), dec)
	}
	return fmt.Errorf("member of unknown holder %#x", uint8(h))
}
