package generator

import (
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/getkin/kin-openapi/openapi3"
)

// Inference: what a schema is (a struct, an enum, a union...) and how the
// variants of a union are told apart.

// category classifies a schema for naming.
type category int

const (
	catOther category = iota
	catStruct
	catEnum
	catSum
	catSame // same type as a single sub-schema (one-element allOf/oneOf)
)

func classify(s *openapi3.Schema) (category, *openapi3.SchemaRef) {
	types, _ := schemaTypes(s)
	if len(s.AllOf) > 0 {
		if len(s.Properties) == 0 {
			if len(s.AllOf) == 1 && s.AllOf[0] != nil {
				return catSame, s.AllOf[0]
			}
			if first := primitiveParts(s.AllOf); first != nil {
				return catSame, first
			}
		}
		return catStruct, nil
	}
	alts := nonNull(s.OneOf)
	if len(alts) == 0 {
		alts = nonNull(s.AnyOf)
	}
	if _, ok := titledEnum(s); ok {
		return catEnum, nil
	}
	if len(alts) == 1 && len(s.Properties) == 0 {
		return catSame, alts[0]
	}
	if len(alts) > 1 {
		return catSum, nil
	}
	if len(s.Enum) > 0 && (len(types) == 0 && allStrings(s.Enum) || len(types) == 1 && types[0] == "string") {
		return catEnum, nil
	}
	if len(types) > 1 {
		return catOther, nil
	}
	if len(s.Properties) > 0 && (len(types) == 0 || types[0] == "object") {
		return catStruct, nil
	}
	if len(types) == 1 && types[0] == "object" && len(s.Properties) == 0 {
		if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has && s.AdditionalProperties.Schema == nil {
			return catStruct, nil
		}
	}
	return catOther, nil
}

func allStrings(vs []any) bool {
	for _, v := range vs {
		if _, ok := v.(string); !ok {
			return false
		}
	}
	return true
}

// primitiveParts returns the first part of an allOf whose parts all have the
// same non-object type (constraints on one string, say), or nil.
func primitiveParts(parts openapi3.SchemaRefs) *openapi3.SchemaRef {
	want := ""
	var first *openapi3.SchemaRef
	for _, p := range parts {
		if p == nil || p.Value == nil {
			return nil
		}
		if len(p.Value.Properties) > 0 || len(p.Value.AllOf) > 0 || len(p.Value.OneOf) > 0 || len(p.Value.AnyOf) > 0 {
			return nil
		}
		ts, _ := schemaTypes(p.Value)
		switch {
		case len(ts) == 0:
			continue // constraints only
		case len(ts) != 1 || ts[0] == "object":
			return nil
		case want == "":
			want, first = ts[0], p
		case ts[0] != want:
			return nil
		}
	}
	return first
}

// enumConst is one value of a "titled enum": a oneOf/anyOf of constant
// strings, each with the title that names it.
type enumConst struct {
	value, title, doc string
}

// titledEnum recognises the idiom of an enumeration written as a oneOf (or
// anyOf) of constant strings, each with its own title and description,
// under a string type (or none): it is an enumeration, not a union.
func titledEnum(s *openapi3.Schema) ([]enumConst, bool) {
	alts := nonNull(s.OneOf)
	if len(alts) == 0 {
		alts = nonNull(s.AnyOf)
	}
	if len(alts) < 2 || len(s.Properties) > 0 || len(s.AllOf) > 0 || len(s.Enum) > 0 {
		return nil, false
	}
	if types, _ := schemaTypes(s); len(types) > 1 || len(types) == 1 && types[0] != "string" {
		return nil, false
	}
	var out []enumConst
	for _, a := range alts {
		v := a.Value
		if v == nil || len(v.Properties) > 0 || len(v.OneOf) > 0 || len(v.AnyOf) > 0 || len(v.AllOf) > 0 {
			return nil, false
		}
		if types, _ := schemaTypes(v); len(types) > 1 || len(types) == 1 && types[0] != "string" {
			return nil, false
		}
		c, ok := constString(v)
		if !ok {
			return nil, false
		}
		out = append(out, enumConst{value: c, title: v.Title, doc: v.Description})
	}
	return out, true
}

// nestedTags gives a variant that is itself a oneOf/anyOf the discriminator
// values of its own alternatives: the tags of the mapping that name one of
// them, and the names of those it references when the mapping does not
// list them. Without it such tags would select nothing.
func nestedTags(n *ir.Type, alts openapi3.SchemaRefs, mapping map[string]openapi3.MappingRef) {
	claimed := map[string]bool{}
	for _, v := range n.Variants {
		for _, t := range v.Tags {
			claimed[t] = true
		}
	}
	mapped := map[string]bool{}
	for _, m := range mapping {
		if m.Ref != "" {
			mapped[refName(m.Ref)] = true
		}
	}
	for i, a := range alts {
		if a == nil || a.Value == nil || i >= len(n.Variants) {
			continue
		}
		v := n.Variants[i]
		for _, tag := range sortedKeys(mapping) {
			if !claimed[tag] && containsSchema(a.Value, mapping[tag], 0) {
				v.Tags = append(v.Tags, tag)
				claimed[tag] = true
			}
		}
		for _, r := range nestedRefs(a.Value, 0) {
			if name := refName(r); !claimed[name] && !mapped[name] {
				v.Tags = append(v.Tags, name)
				claimed[name] = true
			}
		}
	}
}

// containsSchema reports whether the oneOf/anyOf alternatives of s,
// searched through nested unions, include the schema m names.
func containsSchema(s *openapi3.Schema, m openapi3.MappingRef, depth int) bool {
	if depth > 8 {
		return false
	}
	for _, r := range append(slices.Clip(s.OneOf), s.AnyOf...) {
		if r == nil || r.Value == nil {
			continue
		}
		if m.Value != nil && m.Value == r.Value || m.Ref != "" && r.Ref != "" && (m.Ref == r.Ref || strings.HasSuffix(r.Ref, "/"+m.Ref) || refName(m.Ref) == refName(r.Ref)) {
			return true
		}
		if containsSchema(r.Value, m, depth+1) {
			return true
		}
	}
	return false
}

// nestedRefs returns the references among the oneOf/anyOf alternatives of
// s, searched through nested unions.
func nestedRefs(s *openapi3.Schema, depth int) []string {
	if depth > 8 {
		return nil
	}
	var out []string
	for _, r := range append(slices.Clip(s.OneOf), s.AnyOf...) {
		if r == nil || r.Value == nil {
			continue
		}
		if r.Ref != "" {
			out = append(out, r.Ref)
		}
		out = append(out, nestedRefs(r.Value, depth+1)...)
	}
	return out
}

// inferVariants records, for object variants of a sum without a
// discriminator, what an object must look like to be a value of each: its
// required members, the values its constant and enumerated string members
// allow, and, for a closed object, every member it may have. The decoder
// tries the variants whose conditions an object meets, most specific first.
func (g *gen) inferVariants(n *ir.Type, alts openapi3.SchemaRefs) {
	if n.Discriminator != "" {
		return
	}
	for i, a := range alts {
		v := n.Variants[i]
		if v.Type.JSONKind() != "object" || a.Value == nil {
			continue
		}
		props := make(map[string]*openapi3.SchemaRef)
		var order []string
		req := make(map[string]bool)
		g.collectProps(a.Value, props, &order, req, 0)
		for _, k := range order {
			p := props[k]
			if p == nil || p.Value == nil {
				continue
			}
			if req[k] && !p.Value.WriteOnly {
				v.Required = append(v.Required, k)
				ts, _ := schemaTypes(p.Value)
				v.RequiredTypes = append(v.RequiredTypes, strings.Join(ts, ","))
			}
			if vals, ok := stringValues(p.Value); ok {
				v.Values = append(v.Values, ir.MemberValues{Name: k, Values: vals, Required: req[k]})
			}
		}
		if ap := a.Value.AdditionalProperties; ap.Has != nil && !*ap.Has && ap.Schema == nil && len(a.Value.PatternProperties) == 0 {
			v.Closed = true
			v.Known = order
		}
	}
	// Variants that nothing tells apart decode as the first of them.
	for i, a := range n.Variants {
		for _, b := range n.Variants[i+1:] {
			if a.Type.JSONKind() == "object" && b.Type.JSONKind() == "object" && a.SameConditions(b) {
				g.warn(originOf(g.schemaOf[n]), "variants %s and %s of %s require the same members and values, so nothing tells them apart; such objects decode as %s", a.Name, b.Name, n.Name, a.Name)
			}
		}
	}
}

// stringValues returns the string values s allows when it lists them (a
// const, or an enum of strings only).
func stringValues(s *openapi3.Schema) ([]string, bool) {
	if v, ok := s.Const.(string); ok {
		return []string{v}, true
	}
	if len(s.Enum) == 0 {
		return nil, false
	}
	out := make([]string, 0, len(s.Enum))
	for _, e := range s.Enum {
		v, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}
