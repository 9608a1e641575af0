package generator

import (
	"encoding/json"
	"path"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/getkin/kin-openapi/openapi3"
)

// Reading schemas: small questions about an openapi3 schema or reference
// that the builder asks in many places.

// goNameExt returns the x-go-name extension of a spec element, if set.
func goNameExt(ext map[string]any) string {
	v, ok := ext["x-go-name"]
	if !ok {
		return ""
	}
	switch s := v.(type) {
	case string:
		return s
	case json.RawMessage:
		var out string
		if json.Unmarshal(s, &out) == nil {
			return out
		}
	}
	return ""
}

// splitRef splits a $ref into its file part and the last segment of its
// fragment.
func splitRef(ref string) (file, name string) {
	file, frag, _ := strings.Cut(ref, "#")
	name = frag[strings.LastIndex(frag, "/")+1:]
	name = strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~")
	if name == "" {
		name = strings.TrimSuffix(path.Base(file), path.Ext(file))
	}
	return file, name
}

// schemaTypes returns the non-null types of s and whether "null" is listed.
func schemaTypes(s *openapi3.Schema) (types []string, null bool) {
	if s.Type == nil {
		return nil, false
	}
	for _, t := range s.Type.Slice() {
		// An empty name is a YAML null written unquoted in a list of
		// types (type: [null, string]), which can only mean "null".
		if t == "null" || t == "" && len(s.Type.Slice()) > 1 {
			null = true
			continue
		}
		types = append(types, t)
	}
	return types, null
}

func isNullSchema(r *openapi3.SchemaRef) bool {
	if r == nil || r.Value == nil {
		return false
	}
	ts, null := schemaTypes(r.Value)
	return null && len(ts) == 0
}

// nullable reports whether a value of r may be null.
func nullable(r *openapi3.SchemaRef) bool {
	if r == nil || r.Value == nil {
		return false
	}
	s := r.Value
	if s.Nullable {
		return true
	}
	if _, null := schemaTypes(s); null {
		return true
	}
	if slices.Contains(s.Enum, nil) {
		return true // an enum that lists null allows it
	}
	for _, v := range append(slices.Clip(s.OneOf), s.AnyOf...) {
		if isNullSchema(v) {
			return true
		}
	}
	return false
}

// nonNull returns the alternatives of a oneOf/anyOf that are not the null
// type.
func nonNull(refs openapi3.SchemaRefs) openapi3.SchemaRefs {
	var out openapi3.SchemaRefs
	for _, r := range refs {
		if r != nil && !isNullSchema(r) {
			out = append(out, r)
		}
	}
	return out
}

// isAnyJSON reports whether s accepts any JSON value.
func isAnyJSON(s *openapi3.Schema) bool {
	types, null := schemaTypes(s)
	return len(types) == 0 && !null && len(s.Properties) == 0 && len(s.AllOf) == 0 && len(s.OneOf) == 0 &&
		len(s.AnyOf) == 0 && len(s.Enum) == 0 && s.Items == nil && s.AdditionalProperties.Schema == nil
}

func refName(ref string) string {
	_, name := splitRef(ref)
	return name
}

// propOrder returns the property names of a schema in the order the spec
// writes them when the loader recorded it, and sorted otherwise.
func propOrder(props openapi3.Schemas) []string {
	names := sortedKeys(props)
	lines := make(map[string]int, len(names))
	for _, k := range names {
		l := propLine(props[k])
		if l == 0 {
			return names
		}
		lines[k] = l
	}
	slices.SortStableFunc(names, func(a, b string) int { return lines[a] - lines[b] })
	return names
}

func propLine(r *openapi3.SchemaRef) int {
	if r == nil {
		return 0
	}
	if r.Origin != nil && r.Origin.Key != nil {
		return r.Origin.Key.Line
	}
	if r.Ref == "" && r.Value != nil && r.Value.Origin != nil && r.Value.Origin.Key != nil {
		return r.Value.Origin.Key.Line
	}
	return 0
}

// basicUnder returns the basic Go type a scalar schema is defined as (a
// string, integer, number or boolean, enums included), or nil. It lets a
// parameter whose type lives in a mapped package be formatted as plain text.
func basicUnder(s *openapi3.Schema) *ir.TypeRef {
	if s == nil || s.Type == nil || len(s.Type.Slice()) != 1 {
		return nil
	}
	switch {
	case s.Type.Is("string") && s.Format != "date-time" && s.Format != "date" && s.Format != "byte" && s.Format != "binary":
		return ir.String
	case s.Type.Is("integer") && s.Format == "int32":
		return ir.Int32
	case s.Type.Is("integer"):
		return ir.Int64
	case s.Type.Is("number") && s.Format == "float":
		return ir.Float32
	case s.Type.Is("number"):
		return ir.Float64
	case s.Type.Is("boolean"):
		return ir.Bool
	}
	return nil
}

// constString returns the one string value a schema allows (a one-value
// enum, or const), if any.
func constString(s *openapi3.Schema) (string, bool) {
	if v, ok := s.Const.(string); ok {
		return v, true
	}
	if len(s.Enum) == 1 {
		v, ok := s.Enum[0].(string)
		return v, ok
	}
	return "", false
}

// withDeprecated appends a Deprecated paragraph to doc when the spec marks
// the element deprecated.
func withDeprecated(doc string, deprecated bool) string {
	if !deprecated {
		return doc
	}
	const note = "Deprecated: the spec marks this deprecated."
	if strings.TrimSpace(doc) == "" {
		return note
	}
	return strings.TrimRight(doc, "\n ") + "\n\n" + note
}

// escapeRef escapes a name for a JSON pointer, as references write it.
func escapeRef(name string) string {
	return strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
}

// shallowSame reports whether b is a copy of a that shares its parts (the
// loader's reading of a reference with sibling keywords): the same types,
// format, and the same sub-schemas.
func shallowSame(a, b *openapi3.Schema) bool {
	if a == nil || b == nil || a.Format != b.Format || a.Items != b.Items ||
		!slices.Equal(a.Type.Slice(), b.Type.Slice()) || len(a.Properties) != len(b.Properties) ||
		!slices.Equal(a.AllOf, b.AllOf) || !slices.Equal(a.OneOf, b.OneOf) || !slices.Equal(a.AnyOf, b.AnyOf) ||
		!slices.Equal(a.Required, b.Required) || len(a.Enum) != len(b.Enum) {
		return false
	}
	for k, p := range a.Properties {
		if b.Properties[k] != p {
			return false
		}
	}
	return true
}
