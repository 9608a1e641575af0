package ir

import "strings"

import "slices"

// Kind says what a named type is.
type Kind int

// The kinds of named types.
const (
	Struct Kind = iota // a struct with fields
	Enum               // an open string enum
	Sum                // a union (oneOf/anyOf): a struct with a field per variant and a Kind
	Def                // a defined type over Under
	Alias              // an alias of Under
)

// Type is a type declared in the generated package, for a schema.
type Type struct {
	Name string
	Doc  string
	Kind Kind
	Pos  Pos // where the schema is written, for diagnostics

	Fields     []*Field    // Struct: the fields, in the document's order
	Extra      *TypeRef    // Struct: the type of additional property values; nil when forbidden
	ExtraField string      // Struct: the name of the additional-properties field
	Under      *TypeRef    // Enum (its string base), Def, Alias
	Values     []EnumValue // Enum: the constants

	Variants      []*Variant // Sum: the alternatives
	Discriminator string     // Sum: the JSON member naming the variant, "" for none
	KindType      string     // Sum: the name of the Kind type
	RawField      string     // Sum: the name of the field holding unmatched JSON
	Recursive     bool       // Sum: variants are held by pointer
}

// Field is a field of a struct type, for a member of the object.
type Field struct {
	Name     string // the Go name
	JSON     string // the member name
	Type     *TypeRef
	Required bool
	Nullable bool
	Ptr      bool // held by pointer: an optional object or union, or to break a recursive type
	Doc      string
	Const    string // the single allowed string value, if any
	// WriteOnly marks a member only requests carry: a response is not
	// required to have it even when the schema lists it as required.
	WriteOnly bool
}

// EnumValue is one constant of an enum.
type EnumValue struct {
	Name  string // the constant's name
	Value string // its value on the wire
	Doc   string // the value's own description, if the document gives one
}

// Variant is one alternative of a sum type.
type Variant struct {
	Name      string // the field's name in the sum struct
	KindConst string // the Kind constant
	// Constructor is the function New<Variant><Sum> that returns a sum
	// holding the variant.
	Constructor string
	Type        *TypeRef // the variant's type
	Tags        []string // the discriminator values selecting it

	// Object variants of a sum without a discriminator: what an object
	// must look like to be this variant.
	Required      []string       // members it must have
	RequiredTypes []string       // the schema types of the required members
	Values        []MemberValues // members whose string values are listed
	Closed        bool           // it forbids members it does not describe
	Known         []string       // closed: the members it describes
}

// MemberValues is a member of an object variant whose string values are
// limited to a list (a const or an enum).
type MemberValues struct {
	Name     string
	Values   []string
	Required bool
}

// Specificity counts the conditions an object must meet to be v: the more
// there are, the earlier v is tried.
func (v *Variant) Specificity() int {
	n := len(v.Required)
	for _, mv := range v.Values {
		if mv.Required {
			n++
		}
	}
	if v.Closed {
		n++
	}
	return n
}

// SameConditions reports whether v and w accept the same objects as far as
// their conditions tell.
func (v *Variant) SameConditions(w *Variant) bool {
	if v.Closed || w.Closed || !slices.Equal(v.Required, w.Required) || !slices.Equal(v.RequiredTypes, w.RequiredTypes) || len(v.Values) != len(w.Values) {
		return false
	}
	for i, mv := range v.Values {
		wv := w.Values[i]
		if mv.Name != wv.Name || mv.Required != wv.Required || !slices.Equal(mv.Values, wv.Values) {
			return false
		}
	}
	return true
}

// ValidTag reports whether name can be a JSON member name in a struct tag.
// A member whose name cannot (an empty name, one with a comma or a quote)
// is no field of its struct: it is kept, as raw JSON, with the struct's
// additional properties.
func ValidTag(name string) bool {
	if name == "" || name == "-" {
		return false
	}
	for _, c := range name {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c > 127:
		default:
			return false
		}
	}
	return true
}
