package emit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/dave/jennifer/jen"
)

func (e *emitter) namedType(f *jen.File, n *ir.Type) {
	switch n.Kind {
	case ir.Struct:
		e.structType(f, n)
	case ir.Enum:
		e.enumType(f, n)
	case ir.Sum:
		e.sumType(f, n)
	case ir.Alias:
		words := typeWords(n.Under)
		if n.Under.IsRaw() {
			words = "any JSON value, kept as it was received; decode it with json.Unmarshal"
		}
		f.Add(doc(fmt.Sprintf("%s is %s.", n.Name, words), n.Doc))
		f.Type().Id(n.Name).Op("=").Add(e.typ(n.Under))
		f.Line()
	default:
		words := "a value of the schema " + n.Name
		if n.Under.IsRaw() {
			words += ": any JSON value. Decode it with json.Unmarshal"
		}
		if kinds := n.Under.RawKinds(); kinds != nil {
			e.rawKindsType(f, n, kinds)
			return
		}
		f.Add(doc(fmt.Sprintf("%s is %s.", n.Name, words), n.Doc))
		f.Type().Id(n.Name).Add(e.typ(n.Under))
		f.Line()
		if n.Under.Kind == ir.Basic && n.Under.IsInt() {
			// An integer type decodes every spelling of an integer, as the
			// generated decoders do for its members.
			if fn, ok := (&jsonMember{jsonFn: &jsonFn{e: e}}).scalarFunc(n.Under); ok {
				recv, data := e.api.Names.Child().Unexported("v"), "data"
				f.Add(doc(fmt.Sprintf("UnmarshalJSON decodes %s from any spelling of an integer (1.0, 1e2).", n.Name)))
				f.Func().Params(jen.Id(recv).Op("*").Id(n.Name)).Id("UnmarshalJSON").Params(jen.Id(data).Index().Byte()).Error().Block(
					jen.Return(e.rt("DecodeJSONScalarBytes").Call(jen.Id(data), jen.Id(recv), e.rt(fn).Types(jen.Id(n.Name)))))
				f.Line()
			}
		}
	}
}

func typeWords(t *ir.TypeRef) string {
	if t.Kind == ir.Null {
		return typeWords(t.Elem) + " or null (a runtime.Nullable: absent, null or a value)"
	}
	if t.Kind == ir.Slice {
		return "a list of " + strings.TrimPrefix(typeWords(t.Elem), "the type ")
	}
	if t.Kind == ir.Qual {
		return "the type " + t.Name + " of package " + t.Pkg[strings.LastIndex(t.Pkg, "/")+1:]
	}
	return "the type " + t.Name
}

func (e *emitter) structType(f *jen.File, n *ir.Type) {
	var fields []jen.Code
	for _, fl := range n.Fields {
		if !ir.ValidTag(fl.JSON) {
			continue // kept with the additional properties
		}
		t, opt := e.fieldType(fl)
		text := fmt.Sprintf("%s is the %q member", fl.Name, fl.JSON)
		switch {
		case fl.Required && fl.Nullable:
			text += " (required, may be null)"
		case fl.Required:
			text += " (required)"
		case fl.Nullable:
			text += " (optional, may be null)"
		default:
			text += " (optional)"
		}
		if kinds := fl.Type.RawKinds(); kinds != nil {
			text += fmt.Sprintf(", a JSON %s; decode it with json.Unmarshal", strings.Join(kinds, " or "))
		} else if fl.Type.IsRaw() {
			text += ", any JSON value; decode it with json.Unmarshal"
		}
		if fl.Const != "" {
			text += fmt.Sprintf("; always %q", fl.Const)
		}
		fields = append(fields, doc(text+".", fl.Doc).Id(fl.Name).Add(t).Tag(map[string]string{"json": fl.JSON + opt}))
	}
	if n.Extra != nil {
		var kept []string
		for _, fl := range n.Fields {
			if !ir.ValidTag(fl.JSON) {
				kept = append(kept, strconv.Quote(fl.JSON))
			}
		}
		text := n.ExtraField + " holds the members the schema does not describe, so that they\nsurvive a decode and encode round trip."
		if len(kept) > 0 {
			text = fmt.Sprintf("%s holds, as raw JSON, the members the schema does not describe, so\nthat they survive a decode and encode round trip, and the members whose\nnames a struct tag cannot hold: %s.", n.ExtraField, strings.Join(kept, ", "))
		}
		fields = append(fields, doc(text).
			Id(n.ExtraField).Map(jen.String()).Add(e.typ(n.Extra)).Tag(map[string]string{"json": "-"}))
	}
	f.Add(doc(fmt.Sprintf("%s is the object schema %s.", n.Name, n.Name), n.Doc))
	f.Type().Id(n.Name).Struct(fields...)
	f.Line()
	if n.Extra == nil {
		return
	}
	ns := e.api.Names.Child()
	recv := ns.Unexported("v")
	plain := ns.Unexported("plain")
	b := ns.Unexported("b")
	f.Add(doc(fmt.Sprintf("MarshalJSON encodes %s with its additional properties.", n.Name)))
	f.Func().Params(jen.Id(recv).Id(n.Name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Type().Id(plain).Id(n.Name),
		jen.List(jen.Id(b), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id(plain).Call(jen.Id(recv))),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(e.helper("marshalExtra").Call(jen.Id(b), jen.Id(recv).Dot(n.ExtraField))),
	)
	f.Line()
}

func (e *emitter) enumType(f *jen.File, n *ir.Type) {
	f.Add(doc(fmt.Sprintf("%s is an open enumeration: the constants below are the values the spec\nlists, and other values decode without error (see IsKnown).", n.Name), n.Doc))
	f.Type().Id(n.Name).String()
	f.Line()
	if len(n.Values) > 0 {
		var defs []jen.Code
		for _, v := range n.Values {
			defs = append(defs, doc(fmt.Sprintf("%s is the value %q.", v.Name, v.Value), v.Doc).Id(v.Name).Id(n.Name).Op("=").Lit(v.Value))
		}
		f.Add(doc(fmt.Sprintf("Values of %s.", n.Name)))
		f.Const().Defs(defs...)
		f.Line()
	}
	recv := e.api.Names.Child().Unexported("v")
	var cases []jen.Code
	for _, v := range n.Values {
		cases = append(cases, jen.Id(v.Name))
	}
	body := []jen.Code{}
	if len(cases) > 0 {
		body = append(body, jen.Switch(jen.Id(recv)).Block(jen.Case(cases...).Block(jen.Return(jen.True()))))
	}
	body = append(body, jen.Return(jen.False()))
	f.Add(doc(fmt.Sprintf("IsKnown reports whether %s is one of the values the spec lists.", recv)))
	f.Func().Params(jen.Id(recv).Id(n.Name)).Id("IsKnown").Params().Bool().Block(body...)
	f.Line()
}

func (e *emitter) sumType(f *jen.File, n *ir.Type) {
	var names []string
	for _, v := range n.Variants {
		names = append(names, v.Name)
	}
	intro := fmt.Sprintf("%s is one of: %s. Kind says which field holds the value; a value\nthat matches no variant is kept in %s with an empty Kind.", n.Name, strings.Join(names, ", "), n.RawField)
	if n.Discriminator != "" {
		intro += fmt.Sprintf(" The %q member selects the variant.", n.Discriminator)
	}
	fields := []jen.Code{doc("Kind says which variant is set.").Id("Kind").Id(n.KindType)}
	for _, v := range n.Variants {
		t := e.typ(v.Type)
		if n.Recursive {
			t = jen.Op("*").Add(t)
		}
		fields = append(fields, doc(fmt.Sprintf("%s is set when Kind is %s.", v.Name, v.KindConst)).Id(v.Name).Add(t))
	}
	fields = append(fields, doc(n.RawField+" holds a value that matched no variant.").Id(n.RawField).Qual("encoding/json", "RawMessage"))
	f.Add(doc(intro, n.Doc))
	f.Type().Id(n.Name).Struct(fields...)
	f.Line()
	f.Add(doc(fmt.Sprintf("%s names a variant of %s.", n.KindType, n.Name)))
	f.Type().Id(n.KindType).String()
	f.Line()
	var defs []jen.Code
	for _, v := range n.Variants {
		text := fmt.Sprintf("%s marks the %s variant.", v.KindConst, v.Name)
		if n.Discriminator != "" && len(v.Tags) > 0 {
			text = fmt.Sprintf("%s marks the %s variant; its value is the tag the %q member carries.", v.KindConst, v.Name, n.Discriminator)
		}
		defs = append(defs, doc(text).Id(v.KindConst).Id(n.KindType).Op("=").Lit(kindValue(n, v)))
	}
	f.Add(doc(fmt.Sprintf("Variants of %s.", n.Name)))
	f.Const().Defs(defs...)
	f.Line()

	ns := e.api.Names.Child()
	recv := ns.Unexported("v")
	data := ns.Unexported("data")
	// MarshalJSON
	var mcases []jen.Code
	b := ns.Unexported("b")
	for _, v := range n.Variants {
		if n.Discriminator == "" || len(v.Tags) == 0 || v.Type.JSONKind() != "object" {
			mcases = append(mcases, jen.Case(jen.Id(v.KindConst)).Block(jen.Return(jen.Qual("encoding/json", "Marshal").Call(jen.Id(recv).Dot(v.Name)))))
			continue
		}
		args := []jen.Code{jen.Id(b), jen.Lit(n.Discriminator)}
		for _, t := range v.Tags {
			args = append(args, jen.Lit(t))
		}
		mcases = append(mcases, jen.Case(jen.Id(v.KindConst)).Block(
			jen.List(jen.Id(b), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id(recv).Dot(v.Name)),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(e.helper("withTag").Call(args...)),
		))
	}
	mtext := fmt.Sprintf("MarshalJSON encodes the variant Kind names, or %s.", n.RawField)
	if n.Discriminator != "" {
		mtext += fmt.Sprintf(" The %q member is written with the\nvariant's tag, whatever the variant's own field holds (a tag of the variant\nit already holds is kept).", n.Discriminator)
	}
	f.Add(doc(mtext))
	f.Func().Params(jen.Id(recv).Id(n.Name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Switch(jen.Id(recv).Dot("Kind")).Block(mcases...),
		jen.If(jen.Len(jen.Id(recv).Dot(n.RawField)).Op(">").Lit(0)).Block(jen.Return(jen.Id(recv).Dot(n.RawField), jen.Nil())),
		jen.Return(jen.Index().Byte().Call(jen.Lit("null")), jen.Nil()),
	)
	f.Line()
	e.sumConstructors(f, n)

	set := func(v *ir.Variant) []jen.Code {
		target := jen.Op("&").Id(recv).Dot(v.Name)
		var pre []jen.Code
		if n.Recursive {
			pre = append(pre, jen.Id(recv).Dot(v.Name).Op("=").New(e.typ(v.Type)))
			target = jen.Id(recv).Dot(v.Name)
		}
		decode := jen.Qual("encoding/json", "Unmarshal").Call(jen.Id(data), target)
		if v.Type.IsInt() && !n.Recursive {
			// Integers decode as the generated decoders decode them, so
			// that 1.0 and 1e2 are integers here too.
			if fn, ok := (&jsonMember{jsonFn: &jsonFn{e: e}}).scalarFunc(v.Type); ok {
				decode = e.rt("DecodeJSONScalarBytes").Call(jen.Id(data), target, e.rt(fn).Types(e.typ(v.Type)))
			}
		}
		return append(pre, jen.Id(recv).Dot("Kind").Op("=").Id(v.KindConst), jen.Return(decode))
	}
	byKind := map[string][]*ir.Variant{}
	var anyV *ir.Variant
	for _, v := range n.Variants {
		k := v.Type.JSONKind()
		if k == "" {
			if anyV == nil {
				anyV = v
			}
			continue
		}
		byKind[k] = append(byKind[k], v)
	}
	// String enums are told apart from other strings by their values.
	var enums, plain []*ir.Variant
	for _, v := range byKind["string"] {
		if v.Type.Kind == ir.Named && v.Type.Named.Kind == ir.Enum && len(v.Type.Named.Values) > 0 {
			enums = append(enums, v)
		} else {
			plain = append(plain, v)
		}
	}
	var stringCase []jen.Code
	if len(enums) > 0 {
		str := ns.Unexported("s")
		stringCase = append(stringCase,
			jen.Var().Id(str).String(),
			jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id(data), jen.Op("&").Id(str)), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())))
		var cases []jen.Code
		for _, v := range enums {
			var lits []jen.Code
			for _, ev := range v.Type.Named.Values {
				lits = append(lits, jen.Lit(ev.Value))
			}
			cases = append(cases, jen.Case(lits...).Block(set(v)...))
		}
		stringCase = append(stringCase, jen.Switch(jen.Id(str)).Block(cases...))
		if len(plain) > 0 {
			stringCase = append(stringCase, set(plain[0])...)
		} else {
			stringCase = append(stringCase, set(enums[0])...)
		}
	} else if len(plain) > 0 {
		stringCase = set(plain[0])
	}
	byKind["string"] = plain
	for _, k := range []string{"array", "string", "boolean"} {
		if vs := byKind[k]; len(vs) > 1 {
			e.warn(n.Pos, "variants %s and %s of %s are both JSON %ss and nothing tells them apart; such values decode as %s", vs[0].Name, vs[1].Name, n.Name, k, vs[0].Name)
		}
	}
	var outer []jen.Code
	if objs := byKind["object"]; len(objs) > 0 {
		var body []jen.Code
		if n.Discriminator != "" {
			body = e.sumByTag(n, objs, set)
		} else {
			body = e.sumByMembers(n, objs)
		}
		outer = append(outer, jen.Case(jen.LitRune('{')).Block(body...))
	}
	simple := func(kind string, runes ...rune) {
		vs := byKind[kind]
		if len(vs) == 0 {
			return
		}
		var lits []jen.Code
		for _, r := range runes {
			lits = append(lits, jen.LitRune(r))
		}
		outer = append(outer, jen.Case(lits...).Block(set(vs[0])...))
	}
	simple("array", '[')
	if len(stringCase) > 0 {
		outer = append(outer, jen.Case(jen.LitRune('"')).Block(stringCase...))
	}
	simple("boolean", 't', 'f')
	if nums := byKind["number"]; len(nums) > 0 {
		var lits []jen.Code
		for _, r := range "-0123456789" {
			lits = append(lits, jen.LitRune(r))
		}
		var intV, floatV *ir.Variant
		for _, v := range nums {
			if v.Type.IsInt() {
				if intV == nil {
					intV = v
				}
			} else if floatV == nil {
				floatV = v
			}
		}
		var body []jen.Code
		if intV != nil && floatV != nil {
			body = append(body, jen.If(jen.Qual("bytes", "ContainsAny").Call(jen.Id(data), jen.Lit(".eE"))).Block(set(floatV)...))
			body = append(body, set(intV)...)
		} else {
			body = set(nums[0])
		}
		outer = append(outer, jen.Case(lits...).Block(body...))
	}
	var tail []jen.Code
	if anyV != nil {
		tail = set(anyV)
	} else {
		tail = []jen.Code{
			jen.Id(recv).Dot(n.RawField).Op("=").Qual("bytes", "Clone").Call(jen.Id(data)),
			jen.Return(jen.Nil()),
		}
	}
	text := fmt.Sprintf("UnmarshalJSON decodes the variant the JSON value matches, or keeps the value\nin %s when none does", n.RawField)
	if anyV == nil && len(outer) > 0 {
		// A value of a kind no variant has (a boolean where every variant
		// is an object, say) is refused: it is not a newer variant.
		text += "; a value of a kind no variant has is refused"
		outer = append(outer,
			jen.Case(jen.LitRune('n')),
			jen.Default().Block(jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(n.Name+": a JSON value of this kind is none of its variants: %.40q"), jen.Id(data)))))
	}
	f.Add(doc(text + "."))
	blk := []jen.Code{jen.Op("*").Id(recv).Op("=").Id(n.Name).Values()}
	if len(outer) > 0 {
		blk = append(blk, jen.Switch(e.helper("jsonKindOf").Call(jen.Id(data))).Block(outer...))
	}
	blk = append(blk, tail...)
	f.Func().Params(jen.Id(recv).Op("*").Id(n.Name)).Id("UnmarshalJSON").Params(jen.Id(data).Index().Byte()).Error().Block(blk...)
	f.Line()
}

// sumLocals are the names the UnmarshalJSON of a sum type uses; every
// piece of it allocates them the same way, from a fresh child namespace.
func (e *emitter) sumLocals() (recv, data, members, tag, raw, ok string) {
	ns := e.api.Names.Child()
	return ns.Unexported("v"), ns.Unexported("data"), ns.Unexported("members"), ns.Unexported("tag"), ns.Unexported("raw"), ns.Unexported("ok")
}

// sumByTag returns the statements choosing among the object variants objs
// of n by the value of its discriminator member.
func (e *emitter) sumByTag(n *ir.Type, objs []*ir.Variant, set func(*ir.Variant) []jen.Code) []jen.Code {
	_, data, m, tag, raw, ok := e.sumLocals()
	var cases []jen.Code
	for _, v := range objs {
		if len(v.Tags) == 0 {
			continue
		}
		var lits []jen.Code
		for _, t := range v.Tags {
			lits = append(lits, jen.Lit(t))
		}
		cases = append(cases, jen.Case(lits...).Block(set(v)...))
	}
	body := []jen.Code{
		jen.List(jen.Id(m), jen.Err()).Op(":=").Add(e.helper("probe")).Call(jen.Id(data)),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Var().Id(tag).String(),
		jen.If(jen.List(jen.Id(raw), jen.Id(ok)).Op(":=").Id(m).Index(jen.Lit(n.Discriminator)), jen.Id(ok)).Block(
			jen.If(jen.Err().Op("=").Qual("encoding/json", "Unmarshal").Call(jen.Id(raw), jen.Op("&").Id(tag)), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("%s: discriminator %q: %%w", n.Name, n.Discriminator)), jen.Err())))),
	}
	if len(cases) > 0 {
		body = append(body, jen.Switch(jen.Id(tag)).Block(cases...))
	}
	return body
}

// sumByMembers returns the statements choosing among the object variants
// objs of n, which has no discriminator: the variants whose conditions
// (required members, listed values, no unknown members for a closed one)
// the object meets are tried most specific first, ties in the order the
// spec lists them, and the first that decodes wins. An object no variant
// takes falls through to the caller's fallback, so nothing is lost and
// nothing is invented.
func (e *emitter) sumByMembers(n *ir.Type, objs []*ir.Variant) []jen.Code {
	recv, data, m, _, _, _ := e.sumLocals()
	order := slices.Clone(objs)
	slices.SortStableFunc(order, func(a, b *ir.Variant) int { return b.Specificity() - a.Specificity() })
	var body []jen.Code
	probed := false
	for _, v := range order {
		var conds []jen.Code
		for _, r := range v.Required {
			if !slices.ContainsFunc(v.Values, func(mv ir.MemberValues) bool { return mv.Name == r && mv.Required }) {
				conds = append(conds, e.helper("has").Call(jen.Id(m), jen.Lit(r)))
			}
		}
		for _, mv := range v.Values {
			args := []jen.Code{jen.Id(m), jen.Lit(mv.Name), jen.Lit(mv.Required)}
			for _, val := range mv.Values {
				args = append(args, jen.Lit(val))
			}
			conds = append(conds, e.helper("memberIn").Call(args...))
		}
		if v.Closed {
			args := []jen.Code{jen.Id(m)}
			for _, k := range v.Known {
				args = append(args, jen.Lit(k))
			}
			conds = append(conds, e.helper("only").Call(args...))
		}
		if len(conds) > 0 && !probed {
			probed = true
			body = append(body,
				jen.List(jen.Id(m), jen.Err()).Op(":=").Add(e.helper("probe")).Call(jen.Id(data)),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			)
		}
		target := jen.Op("&").Id(recv).Dot(v.Name)
		var try []jen.Code
		if n.Recursive {
			try = append(try, jen.Id(recv).Dot(v.Name).Op("=").New(e.typ(v.Type)))
			target = jen.Id(recv).Dot(v.Name)
		}
		ok := jen.Qual("encoding/json", "Unmarshal").Call(jen.Id(data), target).Op("==").Nil()
		if isSum(v.Type) {
			// A nested union takes any value, keeping what it cannot type
			// in its Raw: it is this variant only when one of its own
			// variants took the value.
			ok = ok.Op("&&").Id(recv).Dot(v.Name).Dot("Kind").Op("!=").Lit("")
		}
		try = append(try,
			jen.If(ok).Block(
				jen.Id(recv).Dot("Kind").Op("=").Id(v.KindConst), jen.Return(jen.Nil())),
			jen.Op("*").Id(recv).Op("=").Id(n.Name).Values(),
		)
		if len(conds) == 0 {
			body = append(body, try...)
			continue
		}
		cond := conds[0]
		for _, c := range conds[1:] {
			cond = jen.Add(cond).Op("&&").Add(c)
		}
		body = append(body, jen.If(cond).Block(try...))
	}
	return body
}

// isSum reports whether t is a union type, through aliases.
func isSum(t *ir.TypeRef) bool {
	for t.Kind == ir.Named && t.Named.Kind == ir.Alias && t.Named.Under != nil {
		t = t.Named.Under
	}
	return t.Kind == ir.Named && t.Named.Kind == ir.Sum
}

// kindValue is the value of the Kind constant of variant v of n: the wire
// tag of a discriminated variant, else the variant's name.
func kindValue(n *ir.Type, v *ir.Variant) string {
	if n.Discriminator != "" && len(v.Tags) > 0 {
		return v.Tags[0]
	}
	return v.Name
}

// sumConstructors renders a constructor per variant of n, New<Variant><Sum>,
// which sets Kind so that the value encodes as that variant.
func (e *emitter) sumConstructors(f *jen.File, n *ir.Type) {
	for _, v := range n.Variants {
		name := v.Constructor
		arg := e.api.Names.Child().Unexported("v")
		val := jen.Id(arg)
		if n.Recursive {
			val = jen.Op("&").Id(arg)
		}
		text := fmt.Sprintf("%s returns a %s holding the %s variant.", name, n.Name, v.Name)
		if n.Discriminator != "" && len(v.Tags) > 0 {
			text = fmt.Sprintf("%s returns a %s holding the %s variant, encoded with %q\nas its %q member.", name, n.Name, v.Name, v.Tags[0], n.Discriminator)
		}
		f.Add(doc(text))
		f.Func().Id(name).Params(jen.Id(arg).Add(e.typ(v.Type))).Id(n.Name).Block(
			jen.Return(jen.Id(n.Name).Values(jen.Dict{jen.Id("Kind"): jen.Id(v.KindConst), jen.Id(v.Name): val})),
		)
		f.Line()
	}
}

// rawKindsType renders a named schema that allows only some JSON kinds
// (type: "null", or a list of types) as raw JSON with methods that keep it
// raw when encoded and refuse a value of any other kind when decoded.
func (e *emitter) rawKindsType(f *jen.File, n *ir.Type, kinds []string) {
	f.Add(doc(fmt.Sprintf("%s is a JSON %s, kept as it was received; decode it with json.Unmarshal.", n.Name, strings.Join(kinds, " or ")), n.Doc))
	f.Type().Id(n.Name).Qual("encoding/json", "RawMessage")
	f.Line()
	recv, data := e.api.Names.Child().Unexported("v"), "data"
	f.Add(doc(fmt.Sprintf("MarshalJSON writes %s as it is (null when empty).", n.Name)))
	f.Func().Params(jen.Id(recv).Id(n.Name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Return(jen.Qual("encoding/json", "RawMessage").Call(jen.Id(recv)).Dot("MarshalJSON").Call()))
	f.Line()
	f.Add(doc(fmt.Sprintf("UnmarshalJSON keeps data, one JSON %s, as it is.", strings.Join(kinds, " or "))))
	f.Func().Params(jen.Id(recv).Op("*").Id(n.Name)).Id("UnmarshalJSON").Params(jen.Id(data).Index().Byte()).Error().Block(
		jen.Return(e.rt("UnmarshalJSONRawKinds").Call(jen.Id(data), jen.Id(recv), e.kindsExpr(kinds))))
	f.Line()
}
