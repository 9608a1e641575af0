package generator

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/getkin/kin-openapi/openapi3"
)

// orNull returns t when its values can stand for null, and a Nullable of t
// when they cannot, for a schema r that allows null.
func orNull(t *ir.TypeRef, r *openapi3.SchemaRef) *ir.TypeRef {
	if !nullable(r) || t.HoldsNull() {
		return t
	}
	return &ir.TypeRef{Kind: ir.Null, Elem: t}
}

// gen holds the state of one generation run.
type gen struct {
	cfg      Config
	doc      *openapi3.T
	ns       *naming.Namespace
	warnings []Diagnostic
	byPtr    map[*openapi3.Schema]*ir.TypeRef
	byRef    map[string]*ir.TypeRef // $ref as written -> the type it names
	types    []*ir.Type
	queue    []*ir.Type
	imports  map[string]string // mapped import path -> package name
	ops      []*ir.Operation
	auth     []*ir.AuthScheme
	stream   *ir.WebSocket
	warned   map[string]bool
	comps    map[string]*ir.TypeRef // component schema name -> its type
	err      *SpecError             // first reason to refuse the spec
	// The source of the model's elements, which only the builder reads.
	schemaOf     map[*ir.Type]*openapi3.Schema         // the schema a named type declares
	filled       map[*ir.Type]bool                     // named types whose declaration is complete
	resultSchema map[*ir.Operation]*openapi3.SchemaRef // the schema of an operation's JSON result
	opOrigin     map[*ir.Operation]*openapi3.Origin    // where an operation is written
	pageExt      map[*ir.Operation]any                 // the x-pagination extension of an operation
	baseURL      string                                // first server URL, when it has no variables
	baseURLName  string
	// userAgent (x-user-agent) is the User-Agent NewClient sends, under
	// the constant userAgentName; "" for none.
	userAgent, userAgentName string
	errCodes                 []*ir.ErrorCode // x-error-codes
	errCodesVar              string          // the unexported list of errCodes
}

func newGen(cfg Config, doc *openapi3.T) *gen {
	return &gen{
		cfg:     cfg,
		doc:     doc,
		ns:      naming.NewNamespace(),
		byPtr:   make(map[*openapi3.Schema]*ir.TypeRef),
		byRef:   make(map[string]*ir.TypeRef),
		imports: make(map[string]string),
		warned:  make(map[string]bool),
		comps:   make(map[string]*ir.TypeRef),

		schemaOf:     make(map[*ir.Type]*openapi3.Schema),
		filled:       make(map[*ir.Type]bool),
		resultSchema: make(map[*ir.Operation]*openapi3.SchemaRef),
		opOrigin:     make(map[*ir.Operation]*openapi3.Origin),
		pageExt:      make(map[*ir.Operation]any),
	}
}

// warn records a warning at the origin of o (which may be nil).
func (g *gen) warn(o *openapi3.Origin, format string, args ...any) {
	g.warnAt(posOf(o), format, args...)
}

// warnAt records a warning at pos.
func (g *gen) warnAt(pos ir.Pos, format string, args ...any) {
	d := Diagnostic{File: g.cfg.Source, Message: "warning: " + fmt.Sprintf(format, args...)}
	if pos.File != "" {
		d.File = pos.File
	}
	d.Line, d.Column = pos.Line, pos.Column
	if k := d.String(); !g.warned[k] {
		g.warned[k] = true
		g.warnings = append(g.warnings, d)
	}
}

// fail records a reason to refuse the spec, at the origin of o.
func (g *gen) fail(o *openapi3.Origin, format string, args ...any) {
	if g.err != nil {
		return
	}
	d := Diagnostic{File: g.cfg.Source, Message: fmt.Sprintf(format, args...)}
	if o != nil && o.Key != nil {
		if o.Key.File != "" {
			d.File = o.Key.File
		}
		d.Line, d.Column = o.Key.Line, o.Key.Column
	}
	g.err = &SpecError{Diagnostic: d}
}

// posOf returns the position o records, or the zero Pos.
func posOf(o *openapi3.Origin) ir.Pos {
	if o == nil || o.Key == nil {
		return ir.Pos{}
	}
	return ir.Pos{File: o.Key.File, Line: o.Key.Line, Column: o.Key.Column}
}

func originOf(s *openapi3.Schema) *openapi3.Origin {
	if s == nil {
		return nil
	}
	return s.Origin
}

// importName returns the reserved package name for an import path.
func (g *gen) importName(p string) string {
	if n, ok := g.imports[p]; ok {
		return n
	}
	base := path.Base(p)
	if strings.HasPrefix(base, "v") && len(base) > 1 && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(p))
	}
	n := g.ns.Unexported(strings.ToLower(base))
	g.imports[p] = n
	return n
}

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

// mapped returns the Go import path for a $ref into a mapped file.
func (g *gen) mapped(ref string) (string, bool) {
	file, _ := splitRef(ref)
	if file == "" {
		return "", false
	}
	if p, ok := g.cfg.ImportMapping[file]; ok {
		return p, true
	}
	clean := path.Clean(file)
	for k, p := range g.cfg.ImportMapping {
		if path.Clean(k) == clean || path.Base(k) == path.Base(clean) && !strings.Contains(k, "/") {
			return p, true
		}
	}
	return "", false
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
			return &ir.TypeRef{Kind: ir.Qual, Pkg: p, Name: goName, Under: basicUnder(r.Value)}
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

// isAnyJSON reports whether s accepts any JSON value.
func isAnyJSON(s *openapi3.Schema) bool {
	types, null := schemaTypes(s)
	return len(types) == 0 && !null && len(s.Properties) == 0 && len(s.AllOf) == 0 && len(s.OneOf) == 0 &&
		len(s.AnyOf) == 0 && len(s.Enum) == 0 && s.Items == nil && s.AdditionalProperties.Schema == nil
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// build turns the loaded document into the model.
func (g *gen) build() error {
	g.reserve()
	var comps map[string]*openapi3.SchemaRef
	if g.doc.Components != nil {
		comps = g.doc.Components.Schemas
	}
	names := sortedKeys(comps)
	// Named schemas first claim their names, so inline types never take them.
	for _, name := range names {
		r := comps[name]
		if r == nil || r.Value == nil || r.Ref != "" {
			continue
		}
		g.comps[name] = g.declare(r.Value, name, r.Extensions)
		g.byRef["#/components/schemas/"+escapeRef(name)] = g.comps[name]
	}
	for _, name := range names {
		r := comps[name]
		if r == nil || r.Value == nil || r.Ref == "" {
			continue
		}
		if _, ok := g.mapped(r.Ref); !ok {
			if _, ok := g.byPtr[r.Value]; !ok {
				g.comps[name] = g.declare(r.Value, name, r.Extensions)
				continue
			}
		}
		goName := goNameExt(r.Extensions)
		if goName == "" {
			goName = name
		}
		n := &ir.Type{Name: g.ns.Exported(goName), Kind: ir.Alias}
		g.schemaOf[n], g.filled[n] = r.Value, true
		n.Doc = r.Value.Description
		t := &ir.TypeRef{Kind: ir.Named, Name: n.Name, Named: n}
		g.types = append(g.types, n)
		n.Under = g.resolve(r, n.Name)
		g.comps[name] = t
		if _, ok := g.byPtr[r.Value]; !ok {
			g.byPtr[r.Value] = t
		}
	}
	g.drain()
	if len(g.doc.Servers) > 0 && g.doc.Servers[0] != nil {
		if u := g.doc.Servers[0].URL; strings.Contains(u, "://") && !strings.ContainsAny(u, "{}") {
			g.baseURL = u
			g.baseURLName = g.ns.Exported("DefaultBaseURL")
		}
	}
	g.buildAuth()
	g.buildErrorCodes()
	if err := g.buildOps(); err != nil {
		return err
	}
	g.drain()
	g.buildPaginations()
	g.checkCycles()
	g.breakCycles()
	g.nameConstructors()
	if g.err != nil {
		return g.err
	}
	return nil
}

// nameConstructors names the constructor of every variant of every sum.
// They take their names after every other package-level name.
func (g *gen) nameConstructors() {
	for _, n := range g.types {
		if n.Kind != ir.Sum {
			continue
		}
		for _, v := range n.Variants {
			v.Constructor = g.ns.Exported("New" + v.Name + n.Name)
		}
	}
}

// model returns the API the build produced, for the emitters.
func (g *gen) model() *ir.API {
	for _, n := range g.types {
		n.Pos = posOf(originOf(g.schemaOf[n]))
	}
	api := &ir.API{
		Names:         g.ns,
		Imports:       g.imports,
		Types:         g.types,
		Operations:    g.ops,
		Auth:          g.auth,
		WebSocket:     g.stream,
		BaseURL:       g.baseURL,
		BaseURLName:   g.baseURLName,
		UserAgent:     g.userAgent,
		UserAgentName: g.userAgentName,
		ErrorCodes:    g.errCodes,
		ErrorCodesVar: g.errCodesVar,
	}
	if g.doc.Info != nil {
		api.Title, api.Version, api.Description = g.doc.Info.Title, g.doc.Info.Version, g.doc.Info.Description
	}
	return api
}

// schemaTypes lists the Go types declared for component schemas, in the
// order of the schema names.
func (g *gen) schemaTypes() []SchemaType {
	var out []SchemaType
	for _, name := range sortedKeys(g.comps) {
		t := g.comps[name]
		if t.Kind != ir.Named || g.schemaOf[t.Named] == nil {
			continue
		}
		out = append(out, SchemaType{Component: name, GoName: t.Name, Schema: g.schemaOf[t.Named]})
	}
	return out
}

// drain fills every declared type, including those declared while filling.
func (g *gen) drain() {
	for len(g.queue) > 0 {
		n := g.queue[0]
		g.queue = g.queue[1:]
		g.fill(n)
	}
}

// reserve takes the names the generated package declares itself, and the
// names of the imports it uses.
func (g *gen) reserve() {
	g.ns.Reserve("Client", "NewClient", "NewClientWith")
	for _, p := range []string{"bytes", "context", "encoding/json", "errors", "fmt", "io", "mime/multipart", "net/http", "net/url", "strconv", "strings", "time", "slices", "maps"} {
		g.imports[p] = path.Base(p)
		g.ns.Reserve(path.Base(p))
	}
	g.importName(g.cfg.RuntimeImport)
	for _, p := range sortedKeys(g.cfg.ImportMapping) {
		g.importName(g.cfg.ImportMapping[p])
	}
}

// breakCycles marks struct fields and sum variants that would make a type
// contain itself by value, so they are held by pointer.
func (g *gen) breakCycles() {
	for _, n := range g.types {
		switch n.Kind {
		case ir.Struct:
			for _, f := range n.Fields {
				if reachesByValue(f.Type, n, map[*ir.Type]bool{}) {
					f.Ptr = true
				}
			}
		case ir.Sum:
			for _, v := range n.Variants {
				if reachesByValue(v.Type, n, map[*ir.Type]bool{}) {
					n.Recursive = true
				}
			}
		}
	}
}

// reachesByValue reports whether a value of type t contains target by value.
func reachesByValue(t *ir.TypeRef, target *ir.Type, seen map[*ir.Type]bool) bool {
	if t != nil && t.Kind == ir.Null {
		return reachesByValue(t.Elem, target, seen)
	}
	if t == nil || t.Kind != ir.Named {
		return false
	}
	n := t.Named
	if n == target {
		return true
	}
	if seen[n] {
		return false
	}
	seen[n] = true
	switch n.Kind {
	case ir.Struct:
		for _, f := range n.Fields {
			if !f.Ptr && reachesByValue(f.Type, target, seen) {
				return true
			}
		}
	case ir.Sum:
		if n.Recursive {
			return false
		}
		for _, v := range n.Variants {
			if reachesByValue(v.Type, target, seen) {
				return true
			}
		}
	case ir.Alias, ir.Def:
		return reachesByValue(n.Under, target, seen)
	}
	return false
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

// checkValues refuses a schema whose default or enum values do not have its
// type.
func (g *gen) checkValues(s *openapi3.Schema) {
	types, null := schemaTypes(s)
	if len(types) != 1 {
		return
	}
	ok := func(v any) bool {
		if v == nil {
			return null || s.Nullable
		}
		switch types[0] {
		case "string":
			_, is := v.(string)
			return is
		case "integer":
			f, is := v.(float64)
			return is && f == float64(int64(f))
		case "number":
			_, is := v.(float64)
			return is
		case "boolean":
			_, is := v.(bool)
			return is
		case "array":
			_, is := v.([]any)
			return is
		case "object":
			_, is := v.(map[string]any)
			return is
		}
		return true
	}
	if s.Default != nil || hasNullDefault(s) {
		switch {
		case ok(s.Default):
		case quotedNumber(s.Default, types[0]):
			// A number written as a string (a decimal kept exact, say): the
			// value agrees with the type, only its spelling does not.
			g.warn(s.Origin, "default value %s of a schema of type %s is a number written as a string; read as the number", jsonText(s.Default), types[0])
		default:
			g.fail(s.Origin, "default value %s does not have the schema's type %s", jsonText(s.Default), types[0])
		}
	}
	for _, v := range s.Enum {
		if types[0] == "string" && v != nil {
			continue // numbers listed for a string are read as their text
		}
		if v == nil {
			continue // an enum that lists null makes the schema nullable
		}
		if !ok(v) {
			g.fail(s.Origin, "enum value %s does not have the schema's type %s", jsonText(v), types[0])
			return
		}
	}
}

// quotedNumber reports whether v is a string holding a JSON number that is
// a valid value of type typ ("number" or "integer").
func quotedNumber(v any, typ string) bool {
	text, is := v.(string)
	if !is || (typ != "number" && typ != "integer") {
		return false
	}
	var n json.Number
	if json.Unmarshal([]byte(text), &n) != nil || string(n) != text {
		return false
	}
	if typ == "integer" {
		return !strings.ContainsAny(text, ".eE")
	}
	return true
}

// hasNullDefault reports whether the spec writes "default: null".
func hasNullDefault(s *openapi3.Schema) bool {
	if s.Origin == nil {
		return false
	}
	_, ok := s.Origin.Fields.Lookup("default")
	return ok && s.Default == nil
}

// checkCycles refuses named types that are defined only in terms of
// themselves (an alias of an alias of itself, say).
func (g *gen) checkCycles() {
	for _, n := range g.types {
		if n.Kind != ir.Alias && n.Kind != ir.Def {
			continue
		}
		seen := map[*ir.Type]bool{n: true}
		t := n.Under
		for t != nil && t.Kind == ir.Named && (t.Named.Kind == ir.Alias || t.Named.Kind == ir.Def) {
			if seen[t.Named] {
				g.fail(originOf(g.schemaOf[n]), "schema %s is defined only in terms of itself", n.Name)
				return
			}
			seen[t.Named] = true
			t = t.Named.Under
		}
		if t != nil && t.Kind == ir.Named && t.Named == n {
			g.fail(originOf(g.schemaOf[n]), "schema %s is defined only in terms of itself", n.Name)
			return
		}
	}
}

// conflicting reports whether two schemas for one property have different
// types.
func conflicting(a, b *openapi3.SchemaRef) bool {
	if a == nil || b == nil || a.Value == nil || b.Value == nil {
		return false
	}
	ta, _ := schemaTypes(a.Value)
	tb, _ := schemaTypes(b.Value)
	return len(ta) == 1 && len(tb) == 1 && ta[0] != tb[0]
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
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
