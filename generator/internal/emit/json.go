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
	// assigned records that a member's decoding set err for the check
	// after the switch instead of returning (see jsonMember.assign).
	assigned bool
}

func (e *emitter) structDecoder(f *jen.File, n *ir.Type) {
	ns := e.api.Names.Child()
	recv := ns.Unexported("v")
	d := ns.Unexported("d")
	it := ns.Unexported("members")
	j := &jsonFn{e: e, ns: ns, d: d, owner: n.Name}

	// Required members are counted in a bit set, so that an object that
	// lacks one is refused (a response that breaks its contract, or a
	// oneOf variant that does not fit) instead of decoding to a zero value.
	// Members only requests carry (writeOnly) are not counted, and neither
	// are those past the 64th.
	seen := ns.Unexported("seen")
	var reqNames []jen.Code
	var cases []jen.Code
	for _, fl := range n.Fields {
		if !ir.ValidTag(fl.JSON) {
			// Not a struct member: kept with the additional properties
			// (raw JSON then), once its value is checked.
			chk := ns.Unexported("check")
			key := ns.Unexported("key")
			body := []jen.Code{
				jen.Var().Id(chk).Add(e.typ(fl.Type)),
				jen.If(jen.List(jen.Id(key), jen.Err()).Op(":=").Add(e.rt("DecodeJSONKept")).Call(jen.Id(d), jen.Op("&").Id(recv).Dot(n.ExtraField), jen.Id(it).Dot("Key").Call(), jen.Op("&").Id(chk), jen.Lit(fl.Nullable || fl.Type.HoldsNull())), jen.Err().Op("!=").Nil()).Block(
					jen.Return(e.rt("JSONMemberError").Call(jen.Lit(n.Name), jen.Id(key), jen.Err()))),
			}
			if fl.Required && !fl.WriteOnly && len(reqNames) < 64 {
				body = append(body, jen.Id(seen).Op("|=").Id(fmt.Sprintf("%#x", uint64(1)<<len(reqNames))))
				reqNames = append(reqNames, jen.Lit(fl.JSON))
			}
			cases = append(cases, jen.Case(jen.Lit(fl.JSON)).Block(body...))
			continue
		}
		body := j.member(fl, jen.Id(recv).Dot(fl.Name))
		if fl.Required && !fl.WriteOnly && len(reqNames) < 64 {
			body = append(body, jen.Id(seen).Op("|=").Id(fmt.Sprintf("%#x", uint64(1)<<len(reqNames))))
			reqNames = append(reqNames, jen.Lit(fl.JSON))
		}
		cases = append(cases, jen.Case(jen.Lit(fl.JSON)).Block(body...))
	}
	cases = append(cases, jen.Default().Block(j.extraMember(n, jen.Id(recv).Dot(n.ExtraField), it)...))

	loop := []jen.Code{jen.Switch(jen.String().Call(jen.Id(it).Dot("Key").Call())).Block(cases...)}
	if j.assigned {
		// The member's name is the key: every case is a member's name.
		loop = append(loop, jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Return(e.rt("JSONMemberError").Call(jen.Lit(n.Name), jen.String().Call(jen.Id(it).Dot("Key").Call()), jen.Err()))))
	}
	f.Add(doc(fmt.Sprintf("DecodeJSON decodes %s from d in one pass over the input, as\nUnmarshalJSON does: an object replaces the whole value (a member given\ntwice keeps its last value), a JSON null leaves %s unchanged.", n.Name, recv)))
	body := []jen.Code{
		jen.If(jen.Id(d).Dot("Next").Call().Op("==").Qual(jxPath, "Null")).Block(jen.Return(jen.Id(d).Dot("Null").Call())),
		jen.Op("*").Id(recv).Op("=").Id(n.Name).Values(),
		jen.List(jen.Id(it), jen.Err()).Op(":=").Id(d).Dot("ObjIter").Call(),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(e.rt("JSONTypeError").Call(jen.Lit(n.Name), jen.Err()))),
	}
	if len(reqNames) > 0 {
		body = append(body, jen.Var().Id(seen).Uint64())
	}
	body = append(body,
		jen.For(jen.Id(it).Dot("Next").Call()).Block(loop...),
		jen.If(jen.Err().Op(":=").Id(it).Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(e.rt("JSONTypeError").Call(jen.Lit(n.Name), jen.Err()))),
	)
	if len(reqNames) > 0 {
		body = append(body, jen.If(jen.Id(seen).Op("!=").Id(fmt.Sprintf("%#x", uint64(1)<<len(reqNames)-1))).Block(
			jen.Return(e.rt("JSONMissing").Call(append([]jen.Code{jen.Lit(n.Name), jen.Id(seen)}, reqNames...)...))))
	}
	body = append(body, jen.Return(jen.Nil()))
	f.Func().Params(jen.Id(recv).Op("*").Id(n.Name)).Id("DecodeJSON").Params(jen.Id(d).Op("*").Add(e.rt("JSONReader"))).Error().Block(body...)
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

// extraMember returns the statements decoding a member that n does not
// describe, the member iterator being it: skipped, or kept in the map
// extra of n's additional properties.
func (j *jsonFn) extraMember(n *ir.Type, extra jen.Code, it string) []jen.Code {
	e, d := j.e, j.d
	if n.Extra == nil {
		return []jen.Code{jen.If(jen.Err().Op(":=").Id(d).Dot("Skip").Call(), jen.Err().Op("!=").Nil()).Block(
			jen.Return(e.rt("JSONMemberError").Call(jen.Lit(n.Name), jen.String().Call(jen.Id(it).Dot("Key").Call()), jen.Err())))}
	}
	key := j.ns.Unexported("key")
	m := j.withMember(jen.Id(key))
	if dec, ok := m.decFunc(n.Extra); ok {
		return []jen.Code{jen.If(jen.List(jen.Id(key), jen.Err()).Op(":=").Add(e.rt("DecodeJSONExtra")).Call(jen.Id(d), jen.Op("&").Add(extra), jen.Id(it).Dot("Key").Call(), dec), jen.Err().Op("!=").Nil()).Block(
			jen.Return(e.rt("JSONMemberError").Call(jen.Lit(n.Name), jen.Id(key), jen.Err())))}
	}
	x := j.ns.Unexported("x")
	out := []jen.Code{
		jen.Id(key).Op(":=").Add(e.rt("JSONKey")).Call(jen.Id(it).Dot("Key").Call()),
		jen.Var().Id(x).Add(e.typ(n.Extra)),
	}
	out = append(out, m.value(n.Extra, jen.Id(x))...)
	return append(out,
		jen.If(jen.Add(extra).Op("==").Nil()).Block(jen.Add(extra).Op("=").Make(jen.Map(jen.String()).Add(e.typ(n.Extra)))),
		jen.Add(extra).Index(jen.Id(key)).Op("=").Id(x),
	)
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
	// assign makes a call that ends the member's statements set err
	// instead of checking it: the object decoder checks err once after its
	// switch, so that each case is one call rather than a call and its
	// own error path. Only a member's top-level statements, straight-line
	// code in a case of that switch, use it.
	assign bool
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
	m.assign = true
	some := &jsonMember{jsonFn: j, member: m.member, nonNull: true}
	switch {
	case fl.Ptr && fl.Type.IsNullable():
		// The pointed-to value holds null itself.
		return append([]jen.Code{jen.Add(lv).Op("=").New(j.e.typ(fl.Type))}, m.value(fl.Type, jen.Parens(jen.Op("*").Add(lv)))...)
	case fl.Ptr && fl.Nullable && !fl.Required:
		// A Nullable of a pointer: absent, null or a value.
		val := jen.Add(lv).Dot("Value")
		target := jen.Parens(jen.Op("*").Add(val))
		if fl.Type.Kind == ir.Named && fl.Type.Named.Kind == ir.Struct {
			target = val.Clone()
		}
		return []jen.Code{jen.If(m.isNull()).Block(m.readNull(), jen.Add(lv).Op("=").Add(j.e.rt("NullOf").Types(jen.Op("*").Add(j.e.typ(fl.Type)))).Call()).Else().Block(
			append([]jen.Code{jen.Add(lv).Op("=").Add(j.e.rt("ValueOf")).Call(jen.New(j.e.typ(fl.Type)))}, some.value(fl.Type, target)...)...)}
	case fl.Ptr:
		if dec, ok := m.decFunc(fl.Type); ok {
			return []jen.Code{m.call(j.e.rt("DecodeJSONPtr"), jen.Id(j.d), jen.Op("&").Add(lv), dec)}
		}
		target := jen.Parens(jen.Op("*").Add(lv))
		if fl.Type.Kind == ir.Named && fl.Type.Named.Kind == ir.Struct {
			target = jen.Add(lv)
		}
		decode := some.value(fl.Type, target)
		if fl.Type.Unalias().Kind == ir.Qual {
			// A type of another package: decoded through the pointer.
			decode = []jen.Code{some.call(j.e.rt("DecodeJSONValue"), jen.Id(j.d), lv)}
		}
		return []jen.Code{jen.If(m.isNull()).Block(m.readNull(), jen.Add(lv).Op("=").Nil()).Else().Block(
			append([]jen.Code{jen.If(jen.Add(lv).Op("==").Nil()).Block(jen.Add(lv).Op("=").New(j.e.typ(fl.Type)))}, decode...)...)}
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
			return []jen.Code{m.call(j.e.rt(wrap), jen.Id(j.d), jen.Op("&").Add(lv), dec)}
		}
		if fl.Nullable {
			break
		}
		switch t := fl.Type.Unalias(); {
		case t.Kind == ir.Slice && !isBytes(t):
			if dec, ok := m.decFunc(t.Elem); ok {
				return []jen.Code{m.call(j.e.rt("DecodeJSONOptSlice"), jen.Id(j.d), jen.Op("&").Add(lv), dec)}
			}
		case t.Kind == ir.Map:
			if dec, ok := m.decFunc(t.Elem); ok {
				return []jen.Code{m.call(j.e.rt("DecodeJSONOptMap"), jen.Id(j.d), jen.Op("&").Add(lv), dec)}
			}
		}
	}
	switch {
	case fl.Nullable:
		return []jen.Code{jen.If(m.isNull()).Block(
			m.readNull(),
			jen.Add(lv).Op("=").Add(j.e.rt("Nullable").Types(j.e.typ(fl.Type))).Values(jen.Dict{jen.Id("Set"): jen.True(), jen.Id("Null"): jen.True()}),
		).Else().Block(append(some.value(fl.Type, jen.Add(lv).Dot("Value")),
			jen.List(jen.Add(lv).Dot("Set"), jen.Add(lv).Dot("Null")).Op("=").List(jen.True(), jen.False()))...)}
	case !fl.Required:
		return []jen.Code{jen.If(m.isNull()).Block(
			m.readNull(),
			jen.Add(lv).Op("=").Add(j.e.rt("Opt").Types(j.e.typ(fl.Type))).Values(),
		).Else().Block(append(some.value(fl.Type, jen.Add(lv).Dot("Value")),
			jen.Add(lv).Dot("Set").Op("=").True())...)}
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
// "err = fn(args...)" for a member whose object decoder checks err after
// its switch (m.assign).
func (m *jsonMember) call(fn jen.Code, args ...jen.Code) jen.Code {
	if m.assign {
		m.assigned = true
		return jen.Err().Op("=").Add(fn).Call(args...)
	}
	return jen.If(jen.Err().Op(":=").Add(fn).Call(args...), jen.Err().Op("!=").Nil()).Block(m.fail(jen.Err()))
}

// generic decodes into lv with runtime.DecodeJSONValue.
func (m *jsonMember) generic(lv jen.Code) []jen.Code {
	return []jen.Code{m.call(m.e.rt("DecodeJSONValue"), jen.Id(m.d), jen.Op("&").Add(lv))}
}

// value returns the statements decoding the next value of d, of type t,
// into the addressable expression lv.
func (m *jsonMember) value(t *ir.TypeRef, lv jen.Code) []jen.Code {
	e := m.e
	if kinds := t.RawKinds(); kinds != nil {
		return []jen.Code{m.call(e.rt("DecodeJSONRawKinds"), jen.Id(m.d), jen.Op("&").Add(lv), e.kindsExpr(kinds))}
	}
	if fn, ok := m.scalarFunc(t); ok {
		return []jen.Code{m.call(e.rt(fn), jen.Id(m.d), jen.Op("&").Add(lv))}
	}
	switch t.Kind {
	case ir.Null:
		if fn, ok := m.scalarFunc(t.Elem); ok {
			dec := e.rt(fn)
			if fn != "DecodeJSONTime" {
				dec = dec.Types(e.typ(t.Elem))
			}
			return []jen.Code{m.call(e.rt("DecodeJSONNullable"), jen.Id(m.d), jen.Op("&").Add(lv), dec)}
		}
		some := &jsonMember{jsonFn: m.jsonFn, member: m.member, nonNull: true}
		return []jen.Code{jen.If(m.isNull()).Block(
			m.readNull(),
			jen.Add(lv).Op("=").Add(e.typ(t)).Values(jen.Dict{jen.Id("Set"): jen.True(), jen.Id("Null"): jen.True()}),
		).Else().Block(append(some.value(t.Elem, jen.Add(lv).Dot("Value")),
			jen.List(jen.Add(lv).Dot("Set"), jen.Add(lv).Dot("Null")).Op("=").List(jen.True(), jen.False()))...)}
	case ir.Named:
		n := t.Named
		switch {
		case n.Kind == ir.Struct, isCollectionDef(n):
			return []jen.Code{m.call(jen.Add(lv).Dot("DecodeJSON"), jen.Id(m.d))}
		case n.Kind == ir.Alias && n.Under != nil:
			return m.value(n.Under, lv)
		case n.Kind == ir.Sum:
			// A sum type looks at the whole value to choose its variant.
			raw := m.ns.Unexported("raw")
			return []jen.Code{
				jen.List(jen.Id(raw), jen.Err()).Op(":=").Id(m.d).Dot("Raw").Call(),
				m.check(),
				jen.If(jen.Err().Op(":=").Add(lv).Dot("UnmarshalJSON").Call(jen.Id(raw)), jen.Err().Op("!=").Nil()).Block(m.fail(jen.Err())),
			}
		}
		return m.generic(lv)
	case ir.Slice:
		if isBytes(t) {
			return m.generic(lv) // base64
		}
		if dec, ok := m.decFunc(t.Elem); ok {
			return []jen.Code{m.call(e.rt("DecodeJSONSlice"), jen.Id(m.d), jen.Op("&").Add(lv), dec)}
		}
		it, s, i := m.ns.Unexported("elems"), m.ns.Unexported("s"), m.ns.Unexported("i")
		elem := jen.Id(s).Index(jen.Id(i))
		loop := append([]jen.Code{jen.Id(s).Op("=").Add(e.rt("JSONSliceAt")).Call(jen.Id(s), jen.Id(i))}, m.nested().value(t.Elem, elem)...)
		loop = append(loop, jen.Id(i).Op("++"))
		return m.ifNull([]jen.Code{jen.Add(lv).Op("=").Nil()},
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
			jen.Add(lv).Op("=").Id(s),
		)
	case ir.Map:
		if dec, ok := m.decFunc(t.Elem); ok {
			return []jen.Code{m.call(e.rt("DecodeJSONMap"), jen.Id(m.d), jen.Op("&").Add(lv), dec)}
		}
		it, key, x := m.ns.Unexported("members"), m.ns.Unexported("key"), m.ns.Unexported("x")
		inner := m.nested()
		loop := []jen.Code{
			jen.Id(key).Op(":=").Add(e.rt("JSONKey")).Call(jen.Id(it).Dot("Key").Call()),
			jen.Var().Id(x).Add(e.typ(t.Elem)),
		}
		loop = append(loop, inner.value(t.Elem, jen.Id(x))...)
		loop = append(loop, jen.Add(lv).Index(jen.Id(key)).Op("=").Id(x))
		return m.ifNull([]jen.Code{jen.Add(lv).Op("=").Nil()},
			jen.List(jen.Id(it), jen.Err()).Op(":=").Id(m.d).Dot("ObjIter").Call(),
			m.check(),
			jen.Add(lv).Op("=").Make(e.typ(t)),
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
