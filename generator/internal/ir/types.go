package ir

import (
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/naming"
)

// typeKind says what a typeRef denotes.
type TypeKind int

const (
	Basic TypeKind = iota // a predeclared type: string, int64, bool, ...
	Named                 // a type declared in the generated package
	Qual                  // a type of another package (mapped spec, time.Time, json.RawMessage)
	Slice                 // []Elem
	Map                   // map[string]Elem
	Null                  // runtime.Nullable[Elem]: Elem or null
)

// typeRef is a Go type expression in the model.
type TypeRef struct {
	Kind  TypeKind
	Name  string   // basic name, named type name, or qualified name
	Pkg   string   // import path for tQual
	Elem  *TypeRef // tSlice, tMap, tNull
	Named *Type    // tNamed
	Under *TypeRef // tQual of a mapped spec: the basic type a scalar schema is defined as, or nil
	Text  bool     // tQual: a type that encodes as a JSON string (runtime.Binary)
	// kinds, for raw JSON whose schema lists the types it allows, are
	// those types' names ("string", "integer", "null"...): the decoder
	// refuses a value of any other kind.
	Kinds []string
}

// rawOf returns raw JSON that holds only values of the given schema types,
// and null when null is set.
func RawOf(types []string, null bool) *TypeRef {
	kinds := slices.Clone(types)
	if null {
		kinds = append(kinds, "null")
	}
	return &TypeRef{Kind: Qual, Pkg: RawJSON.Pkg, Name: RawJSON.Name, Kinds: kinds}
}

// rawKinds returns the kinds t's values are limited to, when t is (a name
// for) raw JSON with a list of kinds.
func (t *TypeRef) RawKinds() []string {
	for t.Kind == Named && (t.Named.Kind == Alias || t.Named.Kind == Def) && t.Named.Under != nil {
		t = t.Named.Under
	}
	if t.IsRaw() {
		return t.Kinds
	}
	return nil
}

var (
	String  = &TypeRef{Kind: Basic, Name: "string"}
	Int64   = &TypeRef{Kind: Basic, Name: "int64"}
	Int32   = &TypeRef{Kind: Basic, Name: "int32"}
	Float64 = &TypeRef{Kind: Basic, Name: "float64"}
	Float32 = &TypeRef{Kind: Basic, Name: "float32"}
	Bool    = &TypeRef{Kind: Basic, Name: "bool"}
	RawJSON = &TypeRef{Kind: Qual, Pkg: "encoding/json", Name: "RawMessage"}
	Time    = &TypeRef{Kind: Qual, Pkg: "time", Name: "Time"}
	Bytes   = &TypeRef{Kind: Slice, Elem: &TypeRef{Kind: Basic, Name: "byte"}}
)

func (t *TypeRef) IsRaw() bool {
	for t.Kind == Named && t.Named.Kind == Alias && t.Named.Under != nil {
		t = t.Named.Under
	}
	return t.Kind == Qual && t.Pkg == "encoding/json" && t.Name == "RawMessage"
}

// holdsNull reports whether a value of type t can itself stand for a JSON
// null and give it back when encoded: raw JSON, a Nullable, a slice or a
// map (nil), a union (its Raw) or a name for one of those. A nullable value
// of any other type needs a Nullable around it.
func (t *TypeRef) HoldsNull() bool {
	switch t.Kind {
	case Null, Slice, Map:
		return true
	case Qual:
		return t.IsRaw()
	case Named:
		n := t.Named
		switch n.Kind {
		case Sum:
			return true
		case Def, Alias:
			return n.Under != nil && n.Under.HoldsNull()
		}
	}
	return false
}

// isNullable reports whether t is a Nullable, or a name for one: a value
// of t has the three states absent, null and set by itself.
func (t *TypeRef) IsNullable() bool {
	for t.Kind == Named && t.Named.Kind == Alias && t.Named.Under != nil {
		t = t.Named.Under
	}
	return t.Kind == Null
}

// label is a short exported word for t, used to name sum-type variants.
func (t *TypeRef) Label() string {
	switch t.Kind {
	case Named, Qual:
		if t.IsRaw() {
			return "JSON"
		}
		return t.Name
	case Slice:
		if t == Bytes || t.Elem.Kind == Basic && t.Elem.Name == "byte" {
			return "Bytes"
		}
		return t.Elem.Label() + "List"
	case Map:
		return t.Elem.Label() + "Map"
	case Null:
		return t.Elem.Label()
	default:
		return naming.ExportedName(t.Name)
	}
}

// jsonKind is the JSON value kind that values of t encode to: "object",
// "array", "string", "number", "boolean", or "" for any.
func (t *TypeRef) JSONKind() string {
	return t.jsonKindIn(map[*Type]bool{})
}

// jsonKindIn is jsonKind, with the sums already being looked at in seen.
func (t *TypeRef) jsonKindIn(seen map[*Type]bool) string {
	switch t.Kind {
	case Basic:
		switch t.Name {
		case "string":
			return "string"
		case "bool":
			return "boolean"
		default:
			return "number"
		}
	case Slice:
		if t.Elem.Kind == Basic && t.Elem.Name == "byte" {
			return "string"
		}
		return "array"
	case Map:
		return "object"
	case Null:
		return t.Elem.jsonKindIn(seen)
	case Qual:
		if t == Time || t.Pkg == "time" || t.Text {
			return "string"
		}
		if t.IsRaw() {
			return ""
		}
		return "object"
	case Named:
		n := t.Named
		switch n.Kind {
		case Struct:
			return "object"
		case Enum:
			return n.Under.jsonKindIn(seen)
		case Def, Alias:
			if n.Under == nil {
				return ""
			}
			return n.Under.jsonKindIn(seen)
		case Sum:
			// A union whose variants are all of one kind is of that kind.
			if seen[n] || len(n.Variants) == 0 {
				return ""
			}
			seen[n] = true
			kind := n.Variants[0].Type.jsonKindIn(seen)
			for _, v := range n.Variants[1:] {
				if v.Type.jsonKindIn(seen) != kind {
					return ""
				}
			}
			return kind
		}
	}
	return ""
}

// namedKind says what a named type is.
type Kind int

const (
	Struct Kind = iota // struct with fields
	Enum               // open string enum
	Sum                // oneOf/anyOf
	Def                // defined type over under
	Alias              // alias of under
)

// namedType is a type declared in the generated package.
type Type struct {
	Name string
	Doc  string
	Kind Kind
	Pos  Pos // where the schema is written, for diagnostics

	Fields     []*Field    // ntStruct
	Extra      *TypeRef    // ntStruct: type of additional property values; nil when forbidden
	ExtraField string      // ntStruct: name of the additional-properties field
	Under      *TypeRef    // ntEnum (string base), ntDef, ntAlias
	Values     []EnumValue // ntEnum

	Variants      []*Variant // ntSum
	Discriminator string     // ntSum: JSON member naming the variant
	KindType      string     // ntSum: name of the Kind type
	RawField      string     // ntSum: name of the field holding unmatched JSON
	Recursive     bool       // ntSum: variants held by pointer
}

// field is a struct field.
type Field struct {
	Name     string
	JSON     string
	Type     *TypeRef
	Required bool
	Nullable bool
	Ptr      bool // held by pointer to break a recursive type
	Doc      string
	Const    string // single allowed string value, if any
	// writeOnly marks a member only requests carry: a response is not
	// required to have it even when the schema lists it as required.
	WriteOnly bool
}

// enumVal is one constant of an enum.
type EnumValue struct {
	Name  string
	Value string
	Doc   string // the value's own description, if the spec gives one
}

// variant is one alternative of a sum type.
type Variant struct {
	Name      string // field name in the sum struct
	KindConst string // Kind constant
	// constructor is the function New<Variant><Sum> that returns a sum
	// holding the variant.
	Constructor string
	Type        *TypeRef // variant type
	Tags        []string // discriminator values selecting it

	// Object variants of a sum without a discriminator: what an object
	// must look like to be this variant.
	Required      []string       // members it must have
	RequiredTypes []string       // the schema types of the required members
	Values        []MemberValues // members whose string values are listed
	Closed        bool           // it forbids members it does not describe
	Known         []string       // closed: the members it describes
}

// memberValues is a member of an object variant whose string values are
// limited to a list (a const or an enum).
type MemberValues struct {
	Name     string
	Values   []string
	Required bool
}

// specificity counts the conditions an object must meet to be v: the more
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

// sameConditions reports whether v and w accept the same objects as far as
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

// tReader is the type of a streamed request body.
var Reader = &TypeRef{Kind: Qual, Pkg: "io", Name: "Reader"}

// Resolve returns the type t names through defined types and aliases:
// t itself unless t is a name for another type.
func (t *TypeRef) Resolve() *TypeRef {
	for t.Kind == Named && (t.Named.Kind == Def || t.Named.Kind == Alias) && t.Named.Under != nil {
		t = t.Named.Under
	}
	return t
}

// IsInt reports whether t is, or names, a Go integer type.
func (t *TypeRef) IsInt() bool {
	for t.Kind == Named && (t.Named.Kind == Def || t.Named.Kind == Alias) && t.Named.Under != nil {
		t = t.Named.Under
	}
	return t.Kind == Basic && strings.HasPrefix(t.Name, "int")
}
