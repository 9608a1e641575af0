package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

// The functions in this file are the JSON helpers generated packages share:
// they used to be copied into every generated package.

// MarshalJSONExtra appends the members of extra, sorted by name, to known,
// the encoding of an object. Generated MarshalJSON methods use it to write
// the members a schema does not describe.
func MarshalJSONExtra[V any](known []byte, extra map[string]V) ([]byte, error) {
	if len(extra) == 0 {
		return known, nil
	}
	out := bytes.TrimSpace(known)
	if len(out) < 2 || out[len(out)-1] != '}' {
		return nil, errors.New("additional properties of a value that is not a JSON object")
	}
	out = slices.Clip(out[:len(out)-1])
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 || len(out) > 1 {
			out = append(out, ',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(extra[k])
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", k, err)
		}
		out = append(out, kb...)
		out = append(out, ':')
		out = append(out, vb...)
	}
	return append(out, '}'), nil
}

// JSONMemberText returns the text of the member key of the JSON object
// data, and whether the object has that member, reading the object only up
// to that member. A null member has the text "".
func JSONMemberText(data []byte, key string) (string, bool, error) {
	text, found, err := JSONTag(data, key)
	return string(text), found, err
}

// JSONTag returns the text of the member key of the JSON object data, and
// whether the object has that member: the tag that says what the object
// is. A null member has no text. When the object starts with that member,
// as a tagged object usually does, and its text has no escapes, it is found
// at a glance, as a slice of data, without reading the rest (which the
// caller decodes next); otherwise the object is read up to the member.
// Generated stream decoders use it to find a frame's type.
func JSONTag(data []byte, key string) ([]byte, bool, error) {
	if text, ok := leadingText(data, key); ok {
		return text, true, nil
	}
	d := readers.Get().(*JSONReader)
	defer func() {
		d.ResetBytes(nil)
		readers.Put(d)
	}()
	d.ResetBytes(data)
	it, err := d.ObjIter()
	if err != nil {
		return nil, false, err
	}
	for it.Next() {
		if string(it.Key()) != key {
			if err := d.Skip(); err != nil {
				return nil, false, err
			}
			continue
		}
		if d.Next() == jx.Null {
			return nil, true, d.Null()
		}
		s, err := DecodeJSONString(d)
		return []byte(s), true, err
	}
	return nil, false, it.Err()
}

// leadingText returns the text of the first member of the JSON object data
// when that member is key and its value an ASCII string without escapes;
// it looks no further and does not validate the rest of data.
func leadingText(data []byte, key string) ([]byte, bool) {
	i := skipJSONSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = skipJSONSpace(data, i+1)
	if i+len(key)+2 > len(data) || data[i] != '"' || string(data[i+1:i+1+len(key)]) != key || data[i+1+len(key)] != '"' {
		return nil, false
	}
	i = skipJSONSpace(data, i+len(key)+2)
	if i >= len(data) || data[i] != ':' {
		return nil, false
	}
	i = skipJSONSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return nil, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return data[i+1 : j : j], true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// skipJSONSpace returns the offset of the first byte of data from i that
// is not JSON white space.
func skipJSONSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// JSONKind returns the first byte of the JSON value data after white space,
// which tells its kind: '{', '[', '"', 't', 'f', 'n', a digit or '-'; 0 for
// nothing.
func JSONKind(data []byte) byte {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

// JSONMembers decodes the members of the JSON object data without decoding
// their values. Generated sum types use it to choose a variant.
func JSONMembers(data []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// JSONHas reports whether the decoded object m has member k.
func JSONHas(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

// JSONMemberIs reports whether member k of the decoded object m is the
// string want.
func JSONMemberIs(m map[string]json.RawMessage, k, want string) bool {
	var s string
	return json.Unmarshal(m[k], &s) == nil && s == want
}

// JSONMemberIn reports whether member k of the decoded object m is one of
// the strings values; a member that is absent passes when it is not
// required. Generated sum types use it to test a variant's constants and
// enumerations.
func JSONMemberIn(m map[string]json.RawMessage, k string, required bool, values ...string) bool {
	raw, ok := m[k]
	if !ok {
		return !required
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	return slices.Contains(values, s)
}

// JSONOnly reports whether every member of the decoded object m is one of
// known: a variant that forbids other members must not take an object that
// has them, or they would be lost.
func JSONOnly(m map[string]json.RawMessage, known ...string) bool {
	for k := range m {
		if !slices.Contains(known, k) {
			return false
		}
	}
	return true
}

// JSONWithTag returns the encoded object obj with its member k set to the
// string tags[0], unless it already holds one of tags: a union's encoder
// uses it so that a variant goes out with its discriminator whatever its
// own field holds. The tag member comes first; the others keep their order.
// A value that is not an object is returned as it is.
func JSONWithTag(obj []byte, k string, tags ...string) ([]byte, error) {
	if JSONKind(obj) != '{' || len(tags) == 0 {
		return obj, nil
	}
	d := jx.DecodeBytes(obj)
	var rest [][]byte
	keep := false
	err := d.ObjBytes(func(d *jx.Decoder, key []byte) error {
		raw, err := d.Raw()
		if err != nil {
			return err
		}
		if string(key) == k {
			var s string
			keep = json.Unmarshal(raw, &s) == nil && slices.Contains(tags, s)
			return nil
		}
		var e jx.Encoder
		e.Str(string(key))
		rest = append(rest, append(append(e.Bytes(), ':'), raw...))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("set %q: %w", k, err)
	}
	if keep {
		return obj, nil
	}
	var e jx.Encoder
	e.ObjStart()
	e.FieldStart(k)
	e.Str(tags[0])
	out := e.Bytes()
	for _, m := range rest {
		out = append(append(out, ','), m...)
	}
	return append(out, '}'), nil
}

// FormatJSONParam encodes a parameter value that has no plain text form as
// JSON; a value that encodes to a JSON string is sent as that string,
// unquoted.
func FormatJSONParam(v any) string {
	b, _ := json.Marshal(v)
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	return string(b)
}
