package generator

import (
	"fmt"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/getkin/kin-openapi/openapi3"
)

// Schemas into types: every schema the document uses becomes a TypeRef,
// and the schemas that need a name a declared ir.Type.

// orNull returns t when its values can stand for null, and a Nullable of t
// when they cannot, for a schema r that allows null.
func orNull(t *ir.TypeRef, r *openapi3.SchemaRef) *ir.TypeRef {
	if !nullable(r) || t.HoldsNull() {
		return t
	}
	return &ir.TypeRef{Kind: ir.Null, Elem: t}
}

// resolve returns the Go type for the schema r; hint names an inline type
// that must be declared.
func (g *gen) resolve(r *openapi3.SchemaRef, hint string) *ir.TypeRef {
	if r == nil || r.Value == nil {
		return ir.RawJSON
	}
	if r.Ref != "" {
		if p, ok := g.mapped(r.Ref); ok {
			_, name := splitRef(r.Ref)
			goName := goNameExt(r.Value.Extensions)
			if goName == "" {
				goName = naming.ExportedName(name)
			}
			g.importName(p)
			cat, _ := classify(r.Value)
			return &ir.TypeRef{Kind: ir.Qual, Pkg: p, Name: goName, Under: basicUnder(r.Value), Object: cat == catStruct || cat == catSum}
		}
		// A reference with sibling keywords (a description, in OpenAPI
		// 3.1) is loaded as a copy of the schema it names: it is still that
		// schema's type, found by the reference itself.
		if t, ok := g.byRef[r.Ref]; ok && (t.Kind != ir.Named || g.schemaOf[t.Named] == r.Value || shallowSame(g.schemaOf[t.Named], r.Value)) {
			return t
		}
		t := g.resolveRef(r)
		g.byRef[r.Ref] = t
		return t
	}
	if t, ok := g.byPtr[r.Value]; ok {
		return t
	}
	return g.inline(r.Value, hint)
}

// resolveRef returns the Go type of the schema that r, a reference into
// this package's document, names.
func (g *gen) resolveRef(r *openapi3.SchemaRef) *ir.TypeRef {
	if t, ok := g.byPtr[r.Value]; ok {
		return t
	}
	_, name := splitRef(r.Ref)
	if cat, _ := classify(r.Value); cat == catStruct || cat == catEnum || cat == catSum {
		return g.declare(r.Value, name, r.Value.Extensions)
	}
	if isAnyJSON(r.Value) {
		return ir.RawJSON
	}
	return g.declare(r.Value, name, r.Value.Extensions)
}

// declare creates (or returns) the named type for schema s.
func (g *gen) declare(s *openapi3.Schema, name string, ext map[string]any) *ir.TypeRef {
	if t, ok := g.byPtr[s]; ok {
		return t
	}
	goName := goNameExt(ext)
	if goName == "" {
		goName = goNameExt(s.Extensions)
	}
	if goName == "" {
		goName = name
	}
	n := &ir.Type{Name: g.ns.Exported(goName), Doc: s.Description}
	g.schemaOf[n] = s
	if n.Doc == "" {
		n.Doc = s.Title
	}
	n.Doc = withDeprecated(n.Doc, s.Deprecated)
	t := &ir.TypeRef{Kind: ir.Named, Name: n.Name, Named: n}
	g.byPtr[s] = t
	g.types = append(g.types, n)
	g.queue = append(g.queue, n)
	return t
}

// inline returns the type of an unnamed schema, declaring a named type
// called hint when the schema needs one (objects, enums, sums).
func (g *gen) inline(s *openapi3.Schema, hint string) *ir.TypeRef {
	g.checkValues(s)
	cat, same := classify(s)
	switch cat {
	case catSame:
		return g.resolve(same, hint)
	case catStruct, catEnum, catSum:
		return g.declare(s, hint, nil)
	}
	types, null := schemaTypes(s)
	if len(types) > 1 {
		g.warn(originOf(s), "schema with several types %v is typed as raw JSON of those kinds", types)
		return ir.RawOf(types, null)
	}
	if len(types) == 0 && null && len(s.Properties) == 0 && s.Items == nil && s.AdditionalProperties.Schema == nil {
		return ir.RawOf(nil, true) // type: "null"
	}
	typ := ""
	if len(types) == 1 {
		typ = types[0]
	}
	switch typ {
	case "string":
		switch s.Format {
		case "date-time":
			return ir.Time
		case "byte":
			return ir.Bytes
		case "binary":
			// Raw octets: in JSON, the text of the string itself.
			return &ir.TypeRef{Kind: ir.Qual, Pkg: g.cfg.RuntimeImport, Name: "Binary", Text: true}
		}
		return ir.String
	case "integer":
		if s.Format == "int32" {
			return ir.Int32
		}
		return ir.Int64
	case "number":
		if s.Format == "float" {
			return ir.Float32
		}
		return ir.Float64
	case "boolean":
		return ir.Bool
	case "array":
		if len(s.PrefixItems) > 0 {
			g.warn(originOf(s), "tuple (prefixItems) is typed as a slice of raw JSON")
			return &ir.TypeRef{Kind: ir.Slice, Elem: ir.RawJSON}
		}
		if s.Items == nil {
			return &ir.TypeRef{Kind: ir.Slice, Elem: ir.RawJSON}
		}
		return &ir.TypeRef{Kind: ir.Slice, Elem: orNull(g.resolve(s.Items, hint+"Item"), s.Items)}
	case "object", "":
		if typ == "" && s.Items != nil {
			return &ir.TypeRef{Kind: ir.Slice, Elem: orNull(g.resolve(s.Items, hint+"Item"), s.Items)}
		}
		if typ == "" && isAnyJSON(s) {
			return ir.RawJSON
		}
		if ap := s.AdditionalProperties.Schema; ap != nil {
			return &ir.TypeRef{Kind: ir.Map, Elem: orNull(g.resolve(ap, hint+"Value"), ap)}
		}
		return &ir.TypeRef{Kind: ir.Map, Elem: ir.RawJSON}
	}
	g.warn(originOf(s), "schema of type %q is typed as raw JSON", typ)
	return ir.RawJSON
}

// fill completes the declaration of n.
func (g *gen) fill(n *ir.Type) {
	if g.filled[n] {
		return
	}
	g.filled[n] = true
	s := g.schemaOf[n]
	g.checkValues(s)
	cat, same := classify(s)
	switch cat {
	case catStruct:
		g.fillStruct(n)
	case catEnum:
		g.fillEnum(n)
	case catSum:
		g.fillSum(n)
	case catSame:
		n.Kind = ir.Def
		n.Under = g.resolve(same, n.Name+"Value")
		if n.Under.Kind == ir.Named && n.Under.Named == n {
			g.fail(originOf(s), "schema %s is defined only in terms of itself", n.Name)
			n.Under = ir.RawJSON
		}
		if n.Under.Kind == ir.Named || n.Under.Kind == ir.Qual {
			n.Kind = ir.Alias
		}
	default:
		n.Kind = ir.Def
		n.Under = g.inline(s, n.Name+"Value")
		if n.Under.Kind == ir.Qual && n.Under.Kinds == nil {
			// time.Time and json.RawMessage carry their JSON methods: a
			// defined type over them would lose them (a timestamp refused,
			// raw JSON encoded as base64), so the name is an alias. Raw
			// JSON limited to some kinds is a defined type with methods
			// of its own, which check the kind.
			n.Kind = ir.Alias
		}
	}
	g.nullableNamed(n)
}

// nullableNamed makes the named type n of a schema that allows null able
// to hold null, so that a null decodes to null and encodes back as null
// instead of as a zero value: n becomes a name for runtime.Nullable of what
// it was. A struct or an enum moves to a new type, n's name plus "Value",
// which keeps their methods; a scalar or an alias is wrapped as it is.
func (g *gen) nullableNamed(n *ir.Type) {
	self := &ir.TypeRef{Kind: ir.Named, Name: n.Name, Named: n}
	if !nullable(&openapi3.SchemaRef{Value: g.schemaOf[n]}) || self.HoldsNull() || n.Kind == ir.Alias && n.Under == nil {
		return
	}
	switch n.Kind {
	case ir.Struct, ir.Enum:
		inner := new(ir.Type)
		*inner = *n
		g.schemaOf[inner], g.filled[inner] = g.schemaOf[n], g.filled[n]
		inner.Name = g.ns.Exported(n.Name + "Value")
		inner.Doc = fmt.Sprintf("%s is the value of %s when it is not null.", inner.Name, n.Name)
		if i := slices.Index(g.types, n); i >= 0 {
			g.types = slices.Insert(g.types, i+1, inner)
		} else {
			g.types = append(g.types, inner)
		}
		*n = ir.Type{Name: n.Name, Doc: n.Doc, Kind: ir.Alias,
			Under: &ir.TypeRef{Kind: ir.Null, Elem: &ir.TypeRef{Kind: ir.Named, Name: inner.Name, Named: inner}}}
	case ir.Def, ir.Alias:
		n.Kind = ir.Alias
		n.Under = &ir.TypeRef{Kind: ir.Null, Elem: n.Under}
	}
}

// collectProps merges the properties and required lists of s and its allOf
// parts.
func (g *gen) collectProps(s *openapi3.Schema, props map[string]*openapi3.SchemaRef, order *[]string, req map[string]bool, depth int) {
	if depth > 32 {
		g.fail(originOf(s), "allOf refers back to itself or nests too deep")
		return
	}
	for _, part := range s.AllOf {
		if part == nil || part.Value == nil {
			continue
		}
		g.collectProps(part.Value, props, order, req, depth+1)
		if len(part.Value.OneOf) > 0 || len(part.Value.AnyOf) > 0 {
			g.warn(originOf(part.Value), "oneOf/anyOf inside allOf is not merged; its members are kept as additional properties")
		}
	}
	names := propOrder(s.Properties)
	for _, k := range names {
		prev, ok := props[k]
		if !ok {
			*order = append(*order, k)
		} else if conflicting(prev, s.Properties[k]) {
			g.fail(originOf(s), "allOf parts give property %q conflicting types", k)
		}
		props[k] = s.Properties[k]
	}
	for _, r := range s.Required {
		req[r] = true
	}
}

func (g *gen) fillStruct(n *ir.Type) {
	n.Kind = ir.Struct
	s := g.schemaOf[n]
	for _, part := range s.AllOf {
		if part == nil || part.Value == nil {
			continue
		}
		if ts, _ := schemaTypes(part.Value); len(ts) == 1 && ts[0] != "object" {
			g.fail(originOf(part.Value), "allOf mixes an object with a %s", ts[0])
		}
	}
	props := make(map[string]*openapi3.SchemaRef)
	var order []string
	req := make(map[string]bool)
	g.collectProps(s, props, &order, req, 0)
	names := fieldNames(props, order)
	for _, k := range order {
		p := props[k]
		if p == nil || p.Value == nil {
			continue
		}
		f := &ir.Field{Name: names[k], JSON: k, Required: req[k], Nullable: nullable(p), Doc: withDeprecated(p.Value.Description, p.Value.Deprecated)}
		f.WriteOnly = p.Value.WriteOnly
		f.Type = g.resolve(p, n.Name+naming.ExportedName(k))
		if v, ok := constString(p.Value); ok {
			f.Const = v
		}
		n.Fields = append(n.Fields, f)
	}
	if len(s.PatternProperties) > 0 {
		g.warn(originOf(s), "patternProperties of %s are kept as raw JSON additional properties", n.Name)
	}
	ap := s.AdditionalProperties
	switch {
	case ap.Has != nil && !*ap.Has:
	case ap.Schema != nil:
		n.Extra = orNull(g.resolve(ap.Schema, n.Name+"Value"), ap.Schema)
	default:
		n.Extra = ir.RawJSON
	}
	// A member whose name cannot be a struct tag is kept, as raw JSON,
	// with the additional properties: those are raw JSON then, whatever
	// the schema says of them, so that nothing is refused or dropped.
	for _, f := range n.Fields {
		if ir.ValidTag(f.JSON) {
			continue
		}
		g.warn(originOf(s), "member %q of %s cannot be a struct tag; it is kept with the additional properties", f.JSON, n.Name)
		if n.Extra == nil || !n.Extra.IsRaw() || n.Extra.RawKinds() != nil {
			n.Extra = ir.RawJSON
		}
	}
	if n.Extra != nil {
		n.ExtraField = names[""]
	}
}

// fieldNames returns the Go names of the struct fields of the properties
// props (in order), and under "" the name of the additional-properties
// field. It depends on the schema alone, so that code in another package
// (a paginator over a mapped type, say) can name the fields too.
func fieldNames(props map[string]*openapi3.SchemaRef, order []string) map[string]string {
	fns := naming.NewNamespace()
	fns.Reserve("MarshalJSON", "UnmarshalJSON", "DecodeJSON")
	out := make(map[string]string, len(order)+1)
	for _, k := range order {
		p := props[k]
		if p == nil || p.Value == nil {
			continue
		}
		name := goNameExt(p.Extensions)
		if name == "" {
			name = goNameExt(p.Value.Extensions)
			if p.Ref != "" {
				name = ""
			}
		}
		if name == "" {
			name = k
		}
		out[k] = fns.Exported(name)
	}
	out[""] = fns.Exported("AdditionalProperties")
	return out
}

func (g *gen) fillEnum(n *ir.Type) {
	n.Kind = ir.Enum
	n.Under = ir.String
	seen := make(map[string]bool)
	if consts, ok := titledEnum(g.schemaOf[n]); ok {
		for _, c := range consts {
			if seen[c.value] {
				continue
			}
			seen[c.value] = true
			word := naming.ExportedName(c.title)
			if word == "" {
				word = naming.ExportedName(c.value)
			}
			if word == "" {
				word = "Value"
			}
			n.Values = append(n.Values, ir.EnumValue{Name: g.ns.Exported(n.Name + word), Value: c.value, Doc: c.doc})
		}
		return
	}
	for _, v := range g.schemaOf[n].Enum {
		if v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			s = jsonText(v)
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		word := naming.ExportedName(s)
		if word == "" {
			word = "Empty"
			if s != "" {
				word = "Value"
			}
		}
		n.Values = append(n.Values, ir.EnumValue{Name: g.ns.Exported(n.Name + word), Value: s})
	}
}

func (g *gen) fillSum(n *ir.Type) {
	n.Kind = ir.Sum
	s := g.schemaOf[n]
	alts := nonNull(s.OneOf)
	if len(alts) == 0 {
		alts = nonNull(s.AnyOf)
	}
	vns := naming.NewNamespace()
	vns.Reserve("Kind", "MarshalJSON", "UnmarshalJSON", "Raw")
	n.RawField = "Raw"
	n.KindType = g.ns.Exported(n.Name + "Kind")
	var mapping map[string]openapi3.MappingRef
	if d := s.Discriminator; d != nil && d.PropertyName != "" {
		n.Discriminator = d.PropertyName
		mapping = d.Mapping
	}
	for i, a := range alts {
		hint := fmt.Sprintf("%s%d", n.Name, i+1)
		if a.Ref == "" && a.Value != nil && naming.ExportedName(a.Value.Title) != "" {
			hint = naming.ExportedName(a.Value.Title)
		}
		t := g.resolve(a, hint)
		if t.Kind == ir.Named && t.Named == n {
			g.fail(originOf(s), "schema %s lists itself as one of its alternatives", n.Name)
			continue
		}
		v := &ir.Variant{Type: t}
		v.Name = vns.Exported(t.Label())
		v.KindConst = g.ns.Exported(n.KindType + v.Name)
		if n.Discriminator != "" {
			for _, tag := range sortedKeys(mapping) {
				m := mapping[tag]
				if m.Value != nil && m.Value == a.Value || m.Ref != "" && (m.Ref == a.Ref || strings.HasSuffix(a.Ref, "/"+m.Ref) || strings.HasSuffix(m.Ref, "/"+refName(a.Ref))) {
					v.Tags = append(v.Tags, tag)
				}
			}
			if len(v.Tags) == 0 && a.Ref != "" {
				_, name := splitRef(a.Ref)
				v.Tags = []string{name}
			}
		}
		n.Variants = append(n.Variants, v)
	}
	if n.Discriminator != "" {
		nestedTags(n, alts, mapping)
	}
	g.inferVariants(n, alts)
}
