package emit

import (
	"fmt"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/dave/jennifer/jen"
)

// jxPath is the import path of jx, whose token types (jx.Null) the
// generated decoders compare with what runtime.JSONReader reads next.
const jxPath = "github.com/go-faster/jx"

// runtimeHelpers maps the roles of the JSON helpers generated code calls to
// the runtime functions that play them, so generated packages do not each
// carry a copy.
var runtimeHelpers = map[string]string{
	"marshalExtra": "MarshalJSONExtra",
	"memberText":   "JSONMemberText",
	"jsonKindOf":   "JSONKind",
	"probe":        "JSONMembers",
	"has":          "JSONHas",
	"memberIs":     "JSONMemberIs",
	"memberIn":     "JSONMemberIn",
	"only":         "JSONOnly",
	"withTag":      "JSONWithTag",
	"formatJSON":   "FormatJSONParam",
}

// decodesJSON reports whether n gets a generated single-pass decoder in
// json.go (DecodeJSON and UnmarshalJSON); types.go then leaves out its
// encoding/json based UnmarshalJSON. Sum types keep theirs: their variants
// are chosen by looking at the value first.
func (e *emitter) decodesJSON(n *ir.Type) bool {
	return n.Kind == ir.Struct || isCollectionDef(n)
}

// isCollectionDef reports whether n is a defined slice or map type (not
// base64 bytes), which gets a generated decoder too.
func isCollectionDef(n *ir.Type) bool {
	if n.Kind != ir.Def || n.Under == nil {
		return false
	}
	u := n.Under
	return u.Kind == ir.Map || u.Kind == ir.Slice && !(u.Elem.Kind == ir.Basic && u.Elem.Name == "byte")
}

// jsonFile renders json.go: for every struct type, a DecodeJSON method that
// decodes the object in one pass over the input with a runtime.JSONReader,
// and an
// UnmarshalJSON that calls it. It returns nil when no type needs one.
func (e *emitter) jsonFile() *jen.File {
	var structs []*ir.Type
	for _, n := range e.api.Types {
		if e.decodesJSON(n) {
			structs = append(structs, n)
		}
	}
	if len(structs) == 0 {
		return nil
	}
	f := e.newFile()
	f.ImportName(jxPath, "jx")
	for _, n := range structs {
		if n.Kind == ir.Struct {
			e.structDecoder(f, n)
		} else {
			e.collectionDecoder(f, n)
		}
	}
	return f
}

// jsonFn builds the body of one generated decoding function.
type jsonFn struct {
	e     *emitter
	ns    *naming.Namespace
	d     string // the *runtime.JSONReader parameter
	owner string // the Go type being decoded, for error messages
	// bare makes errors return as they are, without the member's name:
	// the function decodes one member for runtime.DecodeJSONObject, which
	// adds it. Such a function also calls the methods of generated types
	// through the runtime's generic helpers, but for the DecodeJSON of a
	// struct its field holds by value (see memberDecoder).
	bare bool
	// returned records that a member's decoding ended with a return (see
	// jsonMember.ret).
	returned bool
	// derefs maps the expressions "(*p)" made by deref to p, so that
	// taking their address gives p back rather than &(*p).
	derefs map[jen.Code]jen.Code
}

// structDecoder renders the table that describes n's members to
// runtime.DecodeJSONObject, and n's DecodeJSON and UnmarshalJSON methods,
// which hand it that table. The table is data: the loop, the lookup of each
// member and the decoding of scalar members are compiled once, in the
// runtime, instead of once per type; members of other types decode with a
// small function shared by every member decoded by the same code (see
// memberDecoder).
func (e *emitter) structDecoder(f *jen.File, n *ir.Type) {
	table := e.api.Names.Unexported(n.Name + "JSON")
	var entries []jen.Code
	var required []jen.Code
	for _, fl := range n.Fields {
		field := fl.Name
		if !ir.ValidTag(fl.JSON) {
			// Not a struct member: kept with the additional properties
			// (raw JSON then), once its value is checked.
			field = n.ExtraField
		}
		vals := []jen.Code{
			jen.Id("Name").Op(":").Lit(fl.JSON),
			jen.Id("Offset").Op(":").Qual("unsafe", "Offsetof").Call(jen.Id(n.Name).Values().Dot(field)),
		}
		if kind := e.memberKind(fl); kind != nil && ir.ValidTag(fl.JSON) {
			vals = append(vals, jen.Id("Kind").Op(":").Add(kind))
		} else {
			vals = append(vals, jen.Id("Decode").Op(":").Id(e.memberDecoder(f, n, fl)))
		}
		// Required members are counted in a bit set, so that an object
		// that lacks one is refused (a response that breaks its contract,
		// or a oneOf variant that does not fit) instead of decoding to a
		// zero value. Members only requests carry (writeOnly) are not
		// counted, and neither are those past the 64th.
		if fl.Required && !fl.WriteOnly && len(required) < 64 {
			vals = append(vals, jen.Id("Bit").Op(":").Lit(1).Op("<<").Lit(len(required)))
			required = append(required, jen.Lit(fl.JSON))
		}
		entries = append(entries, jen.Values(vals...))
	}
	obj := []jen.Code{
		jen.Id("Type").Op(":").Lit(n.Name),
		jen.Id("Members").Op(":").Index().Add(e.rt("JSONMember")).ValuesFunc(func(g *jen.Group) {
			for _, en := range entries {
				g.Line().Add(en)
			}
			g.Line()
		}),
	}
	if len(required) > 0 {
		obj = append(obj, jen.Id("Required").Op(":").Index().String().Values(required...))
	}
	if n.Extra != nil {
		obj = append(obj,
			jen.Id("Extra").Op(":").Add(e.extraDecoder(f, n)),
			jen.Id("ExtraOffset").Op(":").Qual("unsafe", "Offsetof").Call(jen.Id(n.Name).Values().Dot(n.ExtraField)))
	}
	f.Add(doc(fmt.Sprintf("%s describes the members of %s to runtime.DecodeJSONObject.", table, n.Name)))
	f.Var().Id(table).Op("=").Add(e.rt("JSONObject")).ValuesFunc(func(g *jen.Group) {
		for _, o := range obj {
			g.Line().Add(o)
		}
		g.Line()
	})
	f.Line()

	ns := e.api.Names.Child()
	recv := ns.Unexported("v")
	d := ns.Unexported("d")
	f.Add(doc(fmt.Sprintf("DecodeJSON decodes %s from d in one pass over the input, as\nUnmarshalJSON does: an object replaces the whole value (a member given\ntwice keeps its last value), a JSON null leaves %s unchanged.", n.Name, recv)))
	f.Func().Params(jen.Id(recv).Op("*").Id(n.Name)).Id("DecodeJSON").Params(jen.Id(d).Op("*").Add(e.rt("JSONReader"))).Error().Block(
		jen.If(jen.Id(d).Dot("Next").Call().Op("==").Qual(jxPath, "Null")).Block(jen.Return(jen.Id(d).Dot("Null").Call())),
		jen.Op("*").Id(recv).Op("=").Id(n.Name).Values(),
		jen.Return(e.rt("DecodeJSONObject").Call(jen.Id(d), jen.Qual("unsafe", "Pointer").Call(jen.Id(recv)), jen.Op("&").Id(table))),
	)
	f.Line()
	var extraText string
	if n.Extra != nil {
		extraText = fmt.Sprintf(", keeping the members the schema does not\ndescribe in %s", n.ExtraField)
	} else {
		extraText = ", skipping the members the schema does not describe"
	}
	data := ns.Unexported("data")
	f.Add(doc(fmt.Sprintf("UnmarshalJSON decodes %s in one pass with DecodeJSON%s.", n.Name, extraText)))
	f.Func().Params(jen.Id(recv).Op("*").Id(n.Name)).Id("UnmarshalJSON").Params(jen.Id(data).Index().Byte()).Error().Block(
		jen.Return(e.rt("DecodeJSONBytes").Call(jen.Id(data), jen.Id(recv))),
	)
	f.Line()
}

// memberKind returns the runtime.MemberKind of a member of field fl that
// the runtime decodes without a function of the generated package: a
// scalar, alone or in an Opt, a Nullable, a slice or a map, whose field's
// Go type has the layout the kind names. It returns nil for any other
// member. It follows jsonFn.member: both must decode a member alike.
func (e *emitter) memberKind(fl *ir.Field) jen.Code {
	m := &jsonMember{jsonFn: &jsonFn{e: e}}
	scalar := func(t *ir.TypeRef) jen.Code {
		if fn, ok := m.scalarFunc(t); ok {
			return e.rt(memberScalars[fn])
		}
		return nil
	}
	// exact is the scalar kind of a map's values, which must have the
	// scalar's Go type itself, not a type defined over it.
	exact := func(t *ir.TypeRef) jen.Code {
		if t = t.Unalias(); t.Kind == ir.Basic || t.IsRaw() || t.Kind == ir.Qual && t.Pkg == "time" && t.Name == "Time" {
			return scalar(t)
		}
		return nil
	}
	held := func(holder string, k jen.Code) jen.Code {
		if k == nil {
			return nil
		}
		return e.rt(holder).Op("|").Add(k)
	}
	t := fl.Type.Unalias()
	if fl.Ptr || t.RawKinds() != nil {
		return nil
	}
	switch {
	case t.Kind == ir.Null:
		if k := scalar(t); k != nil {
			return k
		}
		return held("InNullable", scalar(t.Elem))
	case t.IsRaw():
		return scalar(t)
	case fl.Nullable:
		return held("InNullable", scalar(t))
	case !fl.Required:
		if k := scalar(t); k != nil {
			return held("InOpt", k)
		}
		switch {
		case t.Kind == ir.Slice && !isBytes(t):
			return held("InOptSlice", scalar(t.Elem))
		case t.Kind == ir.Map:
			return held("InOptMap", exact(t.Elem))
		}
		return nil
	}
	if k := scalar(t); k != nil {
		return k
	}
	switch {
	case t.Kind == ir.Slice && !isBytes(t):
		return held("InSlice", scalar(t.Elem))
	case t.Kind == ir.Map:
		return held("InMap", exact(t.Elem))
	}
	return nil
}

// memberScalars maps the runtime's scalar decoding functions to the
// runtime.MemberKind of the values they decode.
var memberScalars = map[string]string{
	"DecodeJSONStringTo":  "MemberString",
	"DecodeJSONInt64To":   "MemberInt64",
	"DecodeJSONInt32To":   "MemberInt32",
	"DecodeJSONFloat64To": "MemberFloat64",
	"DecodeJSONBoolTo":    "MemberBool",
	"DecodeJSONTime":      "MemberTime",
	"DecodeJSONRawTo":     "MemberRaw",
}

// memberDecoder returns the name of the function, of the runtime's form
// func(*runtime.JSONReader, unsafe.Pointer) error, that decodes the value
// of member fl of n into its field, rendering it into f the first time:
// members decoded by the same code (every optional *User, say) share one.
// Such a function calls the DecodeJSON method of a struct it holds by
// value directly, and every other method of a generated type only through
// the runtime's generic helpers, which Go does not count as a dependency:
// a table then depends only on the tables of the structs its type holds
// by value, which never lead back to it (no struct holds itself by value),
// and Go refuses no initialization cycle.
func (e *emitter) memberDecoder(f *jen.File, n *ir.Type, fl *ir.Field) string {
	ns := e.api.Names.Child()
	d, p, v := ns.Unexported("d"), ns.Unexported("p"), ns.Unexported("v")
	j := &jsonFn{e: e, ns: ns, d: d, owner: n.Name, bare: true}
	var ft jen.Code
	var body []jen.Code
	if !ir.ValidTag(fl.JSON) {
		ft = jen.Map(jen.String()).Add(e.typ(n.Extra))
		chk, err := ns.Unexported("check"), ns.Unexported("err")
		body = []jen.Code{
			jen.Var().Id(chk).Add(e.typ(fl.Type)),
			jen.List(jen.Id("_"), jen.Id(err)).Op(":=").Add(e.rt("DecodeJSONKept")).Call(jen.Id(d), jen.Id(v), jen.Index().Byte().Call(jen.Lit(fl.JSON)), jen.Op("&").Id(chk), jen.Lit(fl.Nullable || fl.Type.HoldsNull())),
			jen.Return(jen.Id(err)),
		}
	} else {
		ft, _ = e.fieldType(fl)
		body = j.member(fl, j.deref(jen.Id(v)))
		if !j.returned {
			body = append(body, jen.Return(jen.Nil()))
		}
	}
	body = append([]jen.Code{jen.Id(v).Op(":=").Parens(jen.Op("*").Add(ft)).Call(jen.Id(p))}, body...)
	word := fl.Type.Label()
	switch {
	case !ir.ValidTag(fl.JSON):
		word = "Kept" + naming.ExportedName(fl.JSON)
	case fl.Ptr && fl.Nullable && !fl.Required:
		word = "NullablePtr" + word
	case fl.Ptr:
		word = "Ptr" + word
	case fl.Nullable && !fl.Type.IsNullable():
		word = "Nullable" + word
	case !fl.Required && !fl.Type.IsNullable() && !fl.Type.IsRaw():
		word = "Opt" + word
	}
	return e.jsonFunc(f, "decode"+word, body, jen.Id(d).Op("*").Add(e.rt("JSONReader")), jen.Id(p).Qual("unsafe", "Pointer"))
}

// extraDecoder returns the runtime.JSONObject Extra function of n, which
// has additional properties: the runtime's own for raw JSON, a function of
// the generated package otherwise (rendered into f the first time).
func (e *emitter) extraDecoder(f *jen.File, n *ir.Type) jen.Code {
	if n.Extra.Kind == ir.Qual && n.Extra.IsRaw() {
		return e.rt("DecodeJSONExtraRaw")
	}
	ns := e.api.Names.Child()
	d, p, key, v := ns.Unexported("d"), ns.Unexported("p"), ns.Unexported("key"), ns.Unexported("v")
	j := &jsonFn{e: e, ns: ns, d: d, owner: n.Name, bare: true}
	m := j.withMember(jen.Id(key))
	body := []jen.Code{jen.Id(v).Op(":=").Parens(jen.Op("*").Map(jen.String()).Add(e.typ(n.Extra))).Call(jen.Id(p))}
	if dec, ok := m.decFunc(n.Extra); ok {
		err := ns.Unexported("err")
		body = append(body,
			jen.List(jen.Id("_"), jen.Id(err)).Op(":=").Add(e.rt("DecodeJSONExtra")).Call(jen.Id(d), jen.Id(v), jen.Id(key), dec),
			jen.Return(jen.Id(err)))
	} else {
		name, x := ns.Unexported("name"), ns.Unexported("x")
		body = append(body, jen.Id(name).Op(":=").Add(e.rt("JSONKey")).Call(jen.Id(key)), jen.Var().Id(x).Add(e.typ(n.Extra)))
		body = append(body, m.value(n.Extra, jen.Id(x))...)
		body = append(body,
			jen.If(jen.Op("*").Id(v).Op("==").Nil()).Block(jen.Op("*").Id(v).Op("=").Make(jen.Map(jen.String()).Add(e.typ(n.Extra)))),
			jen.Parens(jen.Op("*").Id(v)).Index(jen.Id(name)).Op("=").Id(x),
			jen.Return(jen.Nil()))
	}
	return jen.Id(e.jsonFunc(f, "decodeExtra"+n.Extra.Label(), body,
		jen.Id(d).Op("*").Add(e.rt("JSONReader")), jen.Id(p).Qual("unsafe", "Pointer"), jen.Id(key).Index().Byte()))
}

// jsonFunc renders into f a function named after base with the parameters
// params (error its result) and the statements body, unless a function of
// the same parameters and body was rendered before, and returns its name.
func (e *emitter) jsonFunc(f *jen.File, base string, body []jen.Code, params ...jen.Code) string {
	key := fmt.Sprintf("%#v", jen.Func().Params(params...).Error().Block(body...))
	if name, ok := e.jsonFuncs[key]; ok {
		return name
	}
	if e.jsonFuncs == nil {
		e.jsonFuncs = map[string]string{}
	}
	name := e.api.Names.Unexported(base)
	e.jsonFuncs[key] = name
	f.Add(doc(fmt.Sprintf("%s decodes a member into the field at p, for the tables of\nruntime.DecodeJSONObject.", name)))
	f.Func().Id(name).Params(params...).Error().Block(body...)
	f.Line()
	return name
}

// collectionDecoder renders DecodeJSON and UnmarshalJSON for a defined
// slice or map type.
func (e *emitter) collectionDecoder(f *jen.File, n *ir.Type) {
	ns := e.api.Names.Child()
	recv := ns.Unexported("v")
	d := ns.Unexported("d")
	data := ns.Unexported("data")
	m := &jsonMember{jsonFn: &jsonFn{e: e, ns: ns, d: d, owner: n.Name}}
	body := m.value(n.Under, jen.Parens(jen.Op("*").Id(recv)))
	if under := n.Under.Unalias(); under.Kind == ir.Slice || under.Kind == ir.Map {
		// One runtime call, given v as a pointer to the underlying type
		// (whose type parameters a defined type would not give).
		fn := map[ir.TypeKind]string{ir.Slice: "DecodeJSONSlice", ir.Map: "DecodeJSONMap"}[under.Kind]
		if dec, ok := m.decFunc(under.Elem); ok && !isBytes(under) {
			body = []jen.Code{m.call(e.rt(fn), jen.Id(d), jen.Parens(jen.Op("*").Add(e.typ(n.Under))).Call(jen.Id(recv)), dec)}
		}
	}
	f.Add(doc(fmt.Sprintf("DecodeJSON decodes %s from d in one pass over the input, as\nUnmarshalJSON does; a JSON null sets %s to nil.", n.Name, recv)))
	f.Func().Params(jen.Id(recv).Op("*").Id(n.Name)).Id("DecodeJSON").Params(jen.Id(d).Op("*").Add(e.rt("JSONReader"))).Error().Block(
		append(body, jen.Return(jen.Nil()))...,
	)
	f.Line()
	f.Add(doc(fmt.Sprintf("UnmarshalJSON decodes %s in one pass with DecodeJSON.", n.Name)))
	f.Func().Params(jen.Id(recv).Op("*").Id(n.Name)).Id("UnmarshalJSON").Params(jen.Id(data).Index().Byte()).Error().Block(
		jen.Return(e.rt("DecodeJSONBytes").Call(jen.Id(data), jen.Id(recv))),
	)
	f.Line()
}

// withMember returns a copy of j whose errors name the member given by the
// expression member (a string).
func (j *jsonFn) withMember(member jen.Code) *jsonMember {
	return &jsonMember{jsonFn: j, member: member}
}

// jsonMember decodes the value of one member.
type jsonMember struct {
	*jsonFn
	member  jen.Code // the member name, a string expression
	nonNull bool     // the value is known not to be null
	// ret makes a call that ends the member's statements return its error
	// as it is: only a member's top-level statements, straight-line code
	// that a call ends, use it.
	ret bool
}

// deref returns the expression "(*p)", whose address is p (see addr).
func (j *jsonFn) deref(p jen.Code) jen.Code {
	x := jen.Parens(jen.Op("*").Add(p))
	if j.derefs == nil {
		j.derefs = map[jen.Code]jen.Code{}
	}
	j.derefs[x] = p
	return x
}

// ref returns the expression lv, written "*p" when lv is deref(p).
func (j *jsonFn) ref(lv jen.Code) *jen.Statement {
	if p, ok := j.derefs[lv]; ok {
		return jen.Op("*").Add(p)
	}
	return jen.Add(lv)
}

// dot returns the selector lv.name, written p.name when lv is deref(p).
func (j *jsonFn) dot(lv jen.Code, name string) *jen.Statement {
	if p, ok := j.derefs[lv]; ok {
		return jen.Add(p).Dot(name)
	}
	return jen.Add(lv).Dot(name)
}

// addr returns the expression "&lv", or p when lv is deref(p).
func (j *jsonFn) addr(lv jen.Code) jen.Code {
	if p, ok := j.derefs[lv]; ok {
		return p
	}
	return jen.Op("&").Add(lv)
}

// nested returns the decoder of values nested in m's value (elements,
// map values), which may be null.
func (m *jsonMember) nested() *jsonMember {
	return &jsonMember{jsonFn: m.jsonFn, member: m.member}
}

// ifNull returns "if null { consume; onNull } else { body }", or just body
// when the value is known not to be null.
func (m *jsonMember) ifNull(onNull []jen.Code, body ...jen.Code) []jen.Code {
	if m.nonNull {
		return body
	}
	return []jen.Code{jen.If(m.isNull()).Block(append([]jen.Code{m.readNull()}, onNull...)...).Else().Block(body...)}
}

// fail returns a statement that returns err wrapped with the member name.
func (m *jsonMember) fail(err jen.Code) jen.Code {
	if m.bare {
		return jen.Return(err)
	}
	if m.member == nil {
		return jen.Return(m.e.rt("JSONTypeError").Call(jen.Lit(m.owner), err))
	}
	return jen.Return(m.e.rt("JSONMemberError").Call(jen.Lit(m.owner), m.member, err))
}

// check returns "if err != nil { return wrapped }".
func (m *jsonMember) check() jen.Code {
	return jen.If(jen.Err().Op("!=").Nil()).Block(m.fail(jen.Err()))
}

// isNull is the condition that the next value is a JSON null.
func (m *jsonMember) isNull() *jen.Statement {
	return jen.Id(m.d).Dot("Next").Call().Op("==").Qual(jxPath, "Null")
}

// readNull consumes a null.
func (m *jsonMember) readNull() jen.Code {
	return jen.If(jen.Err().Op(":=").Id(m.d).Dot("Null").Call(), jen.Err().Op("!=").Nil()).Block(m.fail(jen.Err()))
}

// member returns the statements decoding the value of field fl into lv.
func (j *jsonFn) member(fl *ir.Field, lv jen.Code) []jen.Code {
	m := j.withMember(jen.Lit(fl.JSON))
	m.ret = j.bare
	some := &jsonMember{jsonFn: j, member: m.member, nonNull: true}
	switch {
	case fl.Ptr && fl.Type.IsNullable():
		// The pointed-to value holds null itself.
		return append([]jen.Code{m.ref(lv).Op("=").New(j.e.typ(fl.Type))}, m.value(fl.Type, jen.Parens(jen.Op("*").Add(lv)))...)
	case fl.Ptr && fl.Nullable && !fl.Required:
		// A Nullable of a pointer: absent, null or a value.
		val := m.dot(lv, "Value")
		target := j.deref(val)
		return []jen.Code{jen.If(m.isNull()).Block(m.readNull(), m.ref(lv).Op("=").Add(j.e.rt("NullOf").Types(jen.Op("*").Add(j.e.typ(fl.Type)))).Call()).Else().Block(
			append([]jen.Code{m.ref(lv).Op("=").Add(j.e.rt("ValueOf")).Call(jen.New(j.e.typ(fl.Type)))}, some.value(fl.Type, target)...)...)}
	case fl.Ptr:
		if dec, ok := m.decFunc(fl.Type); ok {
			return []jen.Code{m.call(j.e.rt("DecodeJSONPtr"), jen.Id(j.d), m.addr(lv), dec)}
		}
		target := j.deref(lv)
		decode := some.value(fl.Type, target)
		if fl.Type.Unalias().Kind == ir.Qual {
			// A type of another package: decoded through the pointer.
			decode = []jen.Code{some.call(j.e.rt("DecodeJSONValue"), jen.Id(j.d), lv)}
		}
		return []jen.Code{jen.If(m.isNull()).Block(m.readNull(), m.ref(lv).Op("=").Nil()).Else().Block(
			append([]jen.Code{jen.If(m.ref(lv).Op("==").Nil()).Block(m.ref(lv).Op("=").New(j.e.typ(fl.Type)))}, decode...)...)}
	case fl.Type.IsNullable():
		return m.value(fl.Type, lv)
	case fl.Type.IsRaw():
		return m.value(fl.Type, lv)
	case fl.Nullable || !fl.Required:
		wrap := "DecodeJSONOpt"
		if fl.Nullable {
			wrap = "DecodeJSONNullable"
		}
		if dec, ok := m.decFunc(fl.Type); ok {
			return []jen.Code{m.call(j.e.rt(wrap), jen.Id(j.d), m.addr(lv), dec)}
		}
		if fl.Nullable {
			break
		}
		switch t := fl.Type.Unalias(); {
		case t.Kind == ir.Slice && !isBytes(t):
			if dec, ok := m.decFunc(t.Elem); ok {
				return []jen.Code{m.call(j.e.rt("DecodeJSONOptSlice"), jen.Id(j.d), m.addr(lv), dec)}
			}
		case t.Kind == ir.Map:
			if dec, ok := m.decFunc(t.Elem); ok {
				return []jen.Code{m.call(j.e.rt("DecodeJSONOptMap"), jen.Id(j.d), m.addr(lv), dec)}
			}
		}
	}
	switch {
	case fl.Nullable:
		return []jen.Code{jen.If(m.isNull()).Block(
			m.readNull(),
			m.ref(lv).Op("=").Add(j.e.rt("Nullable").Types(j.e.typ(fl.Type))).Values(jen.Dict{jen.Id("Set"): jen.True(), jen.Id("Null"): jen.True()}),
		).Else().Block(append(some.value(fl.Type, m.dot(lv, "Value")),
			jen.List(m.dot(lv, "Set"), m.dot(lv, "Null")).Op("=").List(jen.True(), jen.False()))...)}
	case !fl.Required:
		return []jen.Code{jen.If(m.isNull()).Block(
			m.readNull(),
			m.ref(lv).Op("=").Add(j.e.rt("Opt").Types(j.e.typ(fl.Type))).Values(),
		).Else().Block(append(some.value(fl.Type, m.dot(lv, "Value")),
			m.dot(lv, "Set").Op("=").True())...)}
	}
	return m.value(fl.Type, lv)
}

// scalarFunc returns the runtime function that decodes a value of type t
// (func(*runtime.JSONReader, *T) error, generic over T), when there is one.
func (m *jsonMember) scalarFunc(t *ir.TypeRef) (string, bool) {
	if t.RawKinds() != nil {
		return "", false // decoded by value, with its kinds
	}
	switch t.Kind {
	case ir.Basic:
		return basicFunc(t.Name)
	case ir.Qual:
		switch {
		case t.IsRaw():
			return "DecodeJSONRawTo", true
		case t.Pkg == "time" && t.Name == "Time":
			return "DecodeJSONTime", true
		case t.Under != nil && t.Under.Kind == ir.Basic:
			return basicFunc(t.Under.Name)
		}
	case ir.Named:
		n := t.Named
		switch {
		case n.Kind == ir.Enum:
			return "DecodeJSONStringTo", true
		case n.Kind == ir.Alias && n.Under != nil:
			return m.scalarFunc(n.Under)
		case n.Kind == ir.Def && n.Under != nil && n.Under.Kind == ir.Basic:
			return basicFunc(n.Under.Name)
		case n.Kind == ir.Def && n.Under != nil && n.Under.IsRaw():
			return "DecodeJSONRawTo", true
		}
	}
	return "", false
}

// basicFunc returns the runtime function decoding the basic type name
// exactly as encoding/json does, if any.
func basicFunc(name string) (string, bool) {
	switch name {
	case "string":
		return "DecodeJSONStringTo", true
	case "int64":
		return "DecodeJSONInt64To", true
	case "int32":
		return "DecodeJSONInt32To", true
	case "float64":
		return "DecodeJSONFloat64To", true
	case "bool":
		return "DecodeJSONBoolTo", true
	}
	return "", false
}

// decFunc returns a function value decoding a value of type t, of the
// runtime's form func(*runtime.JSONReader, *T) error and needing no closure,
// when there is one: a runtime scalar decoder or the DecodeJSON method of a
// generated type. Collections of such values are decoded by one call of a
// runtime helper, instead of a loop repeated for every member.
func (m *jsonMember) decFunc(t *ir.TypeRef) (jen.Code, bool) {
	if fn, ok := m.scalarFunc(t); ok {
		dec := m.e.rt(fn)
		if fn != "DecodeJSONTime" {
			dec = dec.Types(m.e.typ(t))
		}
		return dec, true
	}
	if t.RawKinds() != nil || t.Kind != ir.Named {
		return nil, false
	}
	switch n := t.Named; {
	case n.Kind == ir.Struct, isCollectionDef(n):
		return m.e.rt("DecodeJSONWith").Types(m.e.typ(t)), true
	case n.Kind == ir.Alias && n.Under != nil:
		return m.decFunc(n.Under)
	}
	return nil, false
}

// isBytes reports whether t is []byte, which JSON holds as base64 text.
func isBytes(t *ir.TypeRef) bool {
	return t.Kind == ir.Slice && t.Elem.Kind == ir.Basic && t.Elem.Name == "byte"
}

// call returns "if err := fn(args...); err != nil { fail }", or
// "return fn(args...)" for the call that ends a member's statements
// (m.ret).
func (m *jsonMember) call(fn jen.Code, args ...jen.Code) jen.Code {
	if m.ret {
		m.returned = true
		return jen.Return(jen.Add(fn).Call(args...))
	}
	return jen.If(jen.Err().Op(":=").Add(fn).Call(args...), jen.Err().Op("!=").Nil()).Block(m.fail(jen.Err()))
}

// generic decodes into lv with runtime.DecodeJSONValue.
func (m *jsonMember) generic(lv jen.Code) []jen.Code {
	return []jen.Code{m.call(m.e.rt("DecodeJSONValue"), jen.Id(m.d), m.addr(lv))}
}

// value returns the statements decoding the next value of d, of type t,
// into the addressable expression lv.
func (m *jsonMember) value(t *ir.TypeRef, lv jen.Code) []jen.Code {
	e := m.e
	if kinds := t.RawKinds(); kinds != nil {
		return []jen.Code{m.call(e.rt("DecodeJSONRawKinds"), jen.Id(m.d), m.addr(lv), e.kindsExpr(kinds))}
	}
	if fn, ok := m.scalarFunc(t); ok {
		return []jen.Code{m.call(e.rt(fn), jen.Id(m.d), m.addr(lv))}
	}
	switch t.Kind {
	case ir.Null:
		if fn, ok := m.scalarFunc(t.Elem); ok {
			dec := e.rt(fn)
			if fn != "DecodeJSONTime" {
				dec = dec.Types(e.typ(t.Elem))
			}
			return []jen.Code{m.call(e.rt("DecodeJSONNullable"), jen.Id(m.d), m.addr(lv), dec)}
		}
		some := &jsonMember{jsonFn: m.jsonFn, member: m.member, nonNull: true}
		return []jen.Code{jen.If(m.isNull()).Block(
			m.readNull(),
			m.ref(lv).Op("=").Add(e.typ(t)).Values(jen.Dict{jen.Id("Set"): jen.True(), jen.Id("Null"): jen.True()}),
		).Else().Block(append(some.value(t.Elem, m.dot(lv, "Value")),
			jen.List(m.dot(lv, "Set"), m.dot(lv, "Null")).Op("=").List(jen.True(), jen.False()))...)}
	case ir.Named:
		n := t.Named
		switch {
		case n.Kind == ir.Struct, isCollectionDef(n):
			if m.bare && (n.Kind != ir.Struct || !m.ret) {
				// Through the runtime, unless the field holds the
				// struct by value: a struct behind a pointer, or a
				// defined collection in code of its own, may hold the
				// type whose table this function is in (see
				// memberDecoder).
				return []jen.Code{m.call(e.rt("DecodeJSONWith").Types(e.typ(t)), jen.Id(m.d), m.addr(lv))}
			}
			return []jen.Code{m.call(m.dot(lv, "DecodeJSON"), jen.Id(m.d))}
		case n.Kind == ir.Alias && n.Under != nil:
			return m.value(n.Under, lv)
		case n.Kind == ir.Sum:
			// A sum type looks at the whole value to choose its variant.
			return []jen.Code{m.call(e.rt("DecodeJSONUnmarshal").Types(e.typ(t)), jen.Id(m.d), m.addr(lv))}
		}
		return m.generic(lv)
	case ir.Slice:
		if isBytes(t) {
			return m.generic(lv) // base64
		}
		if dec, ok := m.decFunc(t.Elem); ok {
			return []jen.Code{m.call(e.rt("DecodeJSONSlice"), jen.Id(m.d), m.addr(lv), dec)}
		}
		it, s, i := m.ns.Unexported("elems"), m.ns.Unexported("s"), m.ns.Unexported("i")
		elem := jen.Id(s).Index(jen.Id(i))
		loop := append([]jen.Code{jen.Id(s).Op("=").Add(e.rt("JSONSliceAt")).Call(jen.Id(s), jen.Id(i))}, m.nested().value(t.Elem, elem)...)
		loop = append(loop, jen.Id(i).Op("++"))
		return m.ifNull([]jen.Code{m.ref(lv).Op("=").Nil()},
			jen.List(jen.Id(it), jen.Err()).Op(":=").Id(m.d).Dot("ArrIter").Call(),
			m.check(),
			jen.List(jen.Id(s), jen.Id(i)).Op(":=").List(lv, jen.Lit(0)),
			jen.For(jen.Id(it).Dot("Next").Call()).Block(loop...),
			jen.If(jen.Err().Op(":=").Id(it).Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(m.fail(jen.Err())),
			jen.If(jen.Id(i).Op("==").Lit(0)).Block(
				jen.Id(s).Op("=").Add(e.typ(t)).Values(),
			).Else().Block(
				jen.Id(s).Op("=").Id(s).Index(jen.Empty(), jen.Id(i)),
			),
			m.ref(lv).Op("=").Id(s),
		)
	case ir.Map:
		if dec, ok := m.decFunc(t.Elem); ok {
			return []jen.Code{m.call(e.rt("DecodeJSONMap"), jen.Id(m.d), m.addr(lv), dec)}
		}
		it, key, x := m.ns.Unexported("members"), m.ns.Unexported("key"), m.ns.Unexported("x")
		inner := m.nested()
		loop := []jen.Code{
			jen.Id(key).Op(":=").Add(e.rt("JSONKey")).Call(jen.Id(it).Dot("Key").Call()),
			jen.Var().Id(x).Add(e.typ(t.Elem)),
		}
		loop = append(loop, inner.value(t.Elem, jen.Id(x))...)
		loop = append(loop, jen.Add(lv).Index(jen.Id(key)).Op("=").Id(x))
		return m.ifNull([]jen.Code{m.ref(lv).Op("=").Nil()},
			jen.List(jen.Id(it), jen.Err()).Op(":=").Id(m.d).Dot("ObjIter").Call(),
			m.check(),
			m.ref(lv).Op("=").Make(e.typ(t)),
			jen.For(jen.Id(it).Dot("Next").Call()).Block(loop...),
			jen.If(jen.Err().Op(":=").Id(it).Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(m.fail(jen.Err())),
		)
	}
	return m.generic(lv)
}

// kindsExpr is the runtime.JSONKinds set of the schema type names kinds.
func (e *emitter) kindsExpr(kinds []string) jen.Code {
	var x *jen.Statement
	for _, k := range kinds {
		c := e.rt("Kind" + strings.ToUpper(k[:1]) + k[1:])
		if x == nil {
			x = c
		} else {
			x = x.Op("|").Add(c)
		}
	}
	return x
}
