package ir

import (
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/naming"
)

// TypeKind says what a TypeRef denotes.
type TypeKind int

// The kinds of type expressions.
const (
	Basic TypeKind = iota // a predeclared type: string, int64, bool, ...
	Named                 // a type declared in the generated package
	Qual                  // a type of another package (mapped spec, time.Time, json.RawMessage)
	Slice                 // []Elem
	Map                   // map[string]Elem
	Null                  // runtime.Nullable[Elem]: Elem or null
)

// TypeRef is a Go type expression: the type of a field, a parameter, a
// body, a variant or an item.
type TypeRef struct {
	Kind  TypeKind
	Name  string   // Basic: the type's name; Named: the declared name; Qual: the name in Pkg
	Pkg   string   // Qual: the import path
	Elem  *TypeRef // Slice, Map, Null: the element type
	Named *Type    // Named: the declaration
	Under *TypeRef // Qual of a mapped document: the basic type a scalar schema is defined as, or nil
	Text  bool     // Qual: a type that encodes as a JSON string (runtime.Binary)
	// Object marks a Qual of a mapped document whose schema is an object
	// or a union: a struct in its package.
	Object bool
	// Kinds, for raw JSON whose schema lists the types it allows, are
	// those types' names ("string", "integer", "null"...): the decoder
	// refuses a value of any other kind.
	Kinds []string
}

// The type expressions of the predeclared and standard types the model
// uses. Code compares TypeRefs with them by pointer: they are never
// modified.
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
	// Reader is the type of a streamed request body.
	Reader = &TypeRef{Kind: Qual, Pkg: "io", Name: "Reader"}
)

// RawOf returns raw JSON that holds only values of the given schema types,
// and null when null is set.
func RawOf(types []string, null bool) *TypeRef {
	kinds := slices.Clone(types)
	if null {
		kinds = append(kinds, "null")
	}
	return &TypeRef{Kind: Qual, Pkg: RawJSON.Pkg, Name: RawJSON.Name, Kinds: kinds}
}

// Resolve returns the type t names through defined types and aliases:
// t itself unless t is a name for another type.
func (t *TypeRef) Resolve() *TypeRef {
	for t.Kind == Named && (t.Named.Kind == Def || t.Named.Kind == Alias) && t.Named.Under != nil {
		t = t.Named.Under
	}
	return t
}

// Unalias returns the type that t, a type alias maybe, stands for.
func (t *TypeRef) Unalias() *TypeRef {
	for t.Kind == Named && t.Named.Kind == Alias && t.Named.Under != nil {
		t = t.Named.Under
	}
	return t
}

// RawKinds returns the kinds t's values are limited to, when t is (a name
// for) raw JSON with a list of kinds.
func (t *TypeRef) RawKinds() []string {
	if t = t.Resolve(); t.IsRaw() {
		return t.Kinds
	}
	return nil
}

// IsInt reports whether t is, or names, a Go integer type.
func (t *TypeRef) IsInt() bool {
	t = t.Resolve()
	return t.Kind == Basic && strings.HasPrefix(t.Name, "int")
}

// IsRaw reports whether t is raw JSON (json.RawMessage), or an alias of it.
func (t *TypeRef) IsRaw() bool {
	for t.Kind == Named && t.Named.Kind == Alias && t.Named.Under != nil {
		t = t.Named.Under
	}
	return t.Kind == Qual && t.Pkg == "encoding/json" && t.Name == "RawMessage"
}

// HoldsNull reports whether a value of type t can itself stand for a JSON
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

// IsNullable reports whether t is a Nullable, or a name for one: a value
// of t has the three states absent, null and set by itself.
func (t *TypeRef) IsNullable() bool {
	for t.Kind == Named && t.Named.Kind == Alias && t.Named.Under != nil {
		t = t.Named.Under
	}
	return t.Kind == Null
}

// Label is a short exported word for t, used to name sum-type variants.
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

// JSONKind is the JSON value kind that values of t encode to: "object",
// "array", "string", "number", "boolean", or "" for any.
func (t *TypeRef) JSONKind() string {
	return t.jsonKindIn(map[*Type]bool{})
}

// jsonKindIn is JSONKind, with the sums already being looked at in seen.
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
