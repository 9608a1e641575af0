package runtime

import (
	"encoding/json"
	"reflect"

	"github.com/go-faster/jx"
)

// The functions of this file decode collections and generated types
// through a decoder given as a function value, so that generated code
// decodes a member in one call instead of repeating the same loop for
// every member of every type: the compiler then builds one copy of each
// loop per element type, not one per member, which keeps the generated
// packages quick to compile.

// DecodeJSONWith decodes the next value of d into *p with the DecodeJSON
// method of a generated type: that method as a function value, to hand to
// DecodeJSONOpt, DecodeJSONSlice and the others here. A null leaves *p
// unchanged, as DecodeJSON does.
func DecodeJSONWith[T any, P interface {
	*T
	JSONDecoder
}](d *JSONReader, p *T) error {
	return P(p).DecodeJSON(d)
}

// DecodeJSONSlice decodes a JSON array into *p, each element with dec, the
// way encoding/json decodes into a slice: null sets *p to nil, elements
// already in *p are decoded over, and [] gives an empty slice that is not
// nil.
func DecodeJSONSlice[T any](d *JSONReader, p *[]T, dec func(*JSONReader, *T) error) error {
	if d.Next() == jx.Null {
		*p = nil
		return d.Null()
	}
	elems, err := d.ArrIter()
	if err != nil {
		return err
	}
	s, i := *p, 0
	for elems.Next() {
		s = JSONSliceAt(s, i)
		if err := dec(d, &s[i]); err != nil {
			return err
		}
		i++
	}
	if err := elems.Err(); err != nil {
		return err
	}
	if i == 0 {
		s = []T{}
	} else {
		s = s[:i]
	}
	*p = s
	return nil
}

// DecodeJSONMap decodes a JSON object into a new map in *p, each value with
// dec: null sets *p to nil, and a member given twice keeps its last value.
func DecodeJSONMap[T any](d *JSONReader, p *map[string]T, dec func(*JSONReader, *T) error) error {
	if d.Next() == jx.Null {
		*p = nil
		return d.Null()
	}
	members, err := d.ObjIter()
	if err != nil {
		return err
	}
	m := make(map[string]T)
	*p = m
	for members.Next() {
		key := JSONKey(members.Key())
		var x T
		if err := dec(d, &x); err != nil {
			return err
		}
		m[key] = x
	}
	return members.Err()
}

// DecodeJSONOptSlice decodes an optional array into *o as DecodeJSONSlice
// does; a null makes *o absent, as Opt's UnmarshalJSON does.
func DecodeJSONOptSlice[T any](d *JSONReader, o *Opt[[]T], dec func(*JSONReader, *T) error) error {
	if d.Next() == jx.Null {
		*o = Opt[[]T]{}
		return d.Null()
	}
	if err := DecodeJSONSlice(d, &o.Value, dec); err != nil {
		return err
	}
	o.Set = true
	return nil
}

// DecodeJSONOptMap decodes an optional object into *o as DecodeJSONMap
// does; a null makes *o absent, as Opt's UnmarshalJSON does.
func DecodeJSONOptMap[T any](d *JSONReader, o *Opt[map[string]T], dec func(*JSONReader, *T) error) error {
	if d.Next() == jx.Null {
		*o = Opt[map[string]T]{}
		return d.Null()
	}
	if err := DecodeJSONMap(d, &o.Value, dec); err != nil {
		return err
	}
	o.Set = true
	return nil
}

// DecodeJSONExtra decodes the value of the member named key, one a schema
// does not describe, with dec into the map *m of such members (made when
// nil). It returns the member's name as encoding/json gives it, for the
// caller's error.
func DecodeJSONExtra[T any](d *JSONReader, m *map[string]T, key []byte, dec func(*JSONReader, *T) error) (string, error) {
	name := JSONKey(key)
	var x T
	if err := dec(d, &x); err != nil {
		return name, err
	}
	if *m == nil {
		*m = make(map[string]T)
	}
	(*m)[name] = x
	return name, nil
}

// DecodeJSONKept decodes the value of the member named key, one a schema
// describes but a Go struct cannot hold as a field (its name is empty or
// has characters a struct tag refuses), into the map *m of the members
// kept as raw JSON (made when nil). The value is checked first by decoding
// it into *check, a value of the member's type, so that a value the schema
// refuses is an error there too; a null is refused unless nullable. It
// returns the member's name as encoding/json gives it, for the caller's
// error.
func DecodeJSONKept[T any](d *JSONReader, m *map[string]json.RawMessage, key []byte, check *T, nullable bool) (string, error) {
	name := JSONKey(key)
	raw, err := DecodeJSONRaw(d)
	if err != nil {
		return name, err
	}
	if string(raw) == "null" {
		if !nullable {
			return name, &json.UnmarshalTypeError{Value: "null", Type: reflect.TypeFor[T]()}
		}
	} else if err := UnmarshalJSON(raw, check); err != nil {
		return name, err
	}
	if *m == nil {
		*m = make(map[string]json.RawMessage)
	}
	(*m)[name] = raw
	return name, nil
}

// DecodeJSONUnmarshal decodes the next value of d into *p with the
// UnmarshalJSON method of *p, given the value's raw JSON: the way generated
// code decodes a sum type, which looks at the whole value to choose its
// variant.
func DecodeJSONUnmarshal[T any, P interface {
	*T
	json.Unmarshaler
}](d *JSONReader, p *T) error {
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	return P(p).UnmarshalJSON(raw)
}
