package generator

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dave/jennifer/jen"
)

func (e *emitter) namedType(f *jen.File, n *namedType) {
	switch n.kind {
	case ntStruct:
		e.structType(f, n)
	case ntEnum:
		e.enumType(f, n)
	case ntSum:
		e.sumType(f, n)
	case ntAlias:
		words := typeWords(n.under)
		if n.under.isRaw() {
			words = "any JSON value, kept as it was received; decode it with json.Unmarshal"
		}
		f.Add(doc(fmt.Sprintf("%s is %s.", n.name, words), n.doc))
		f.Type().Id(n.name).Op("=").Add(e.typ(n.under))
		f.Line()
	default:
		words := "a value of the schema " + n.name
		if n.under.isRaw() {
			words += ": any JSON value. Decode it with json.Unmarshal"
		}
		if kinds := n.under.rawKinds(); kinds != nil {
			e.rawKindsType(f, n, kinds)
			return
		}
		f.Add(doc(fmt.Sprintf("%s is %s.", n.name, words), n.doc))
		f.Type().Id(n.name).Add(e.typ(n.under))
		f.Line()
		if n.under.kind == tBasic && isIntType(n.under) {
			// An integer type decodes every spelling of an integer, as the
			// generated decoders do for its members.
			if fn, ok := (&jsonMember{jsonFn: &jsonFn{e: e}}).scalarFunc(n.under); ok {
				recv, data := e.g.ns.Child().Unexported("v"), "data"
				f.Add(doc(fmt.Sprintf("UnmarshalJSON decodes %s from any spelling of an integer (1.0, 1e2).", n.name)))
				f.Func().Params(jen.Id(recv).Op("*").Id(n.name)).Id("UnmarshalJSON").Params(jen.Id(data).Index().Byte()).Error().Block(
					jen.Return(e.rt("DecodeJSONScalarBytes").Call(jen.Id(data), jen.Id(recv), e.rt(fn).Types(jen.Id(n.name)))))
				f.Line()
			}
		}
	}
}

func typeWords(t *typeRef) string {
	if t.kind == tNull {
		return typeWords(t.elem) + " or null (a runtime.Nullable: absent, null or a value)"
	}
	if t.kind == tSlice {
		return "a list of " + strings.TrimPrefix(typeWords(t.elem), "the type ")
	}
	if t.kind == tQual {
		return "the type " + t.name + " of package " + t.pkg[strings.LastIndex(t.pkg, "/")+1:]
	}
	return "the type " + t.name
}

func (e *emitter) structType(f *jen.File, n *namedType) {
	var fields []jen.Code
	for _, fl := range n.fields {
		if !validTag(fl.json) {
			e.g.warn(originOf(e.g.schemaOf[n]), "member %q of %s cannot be a struct tag; it is kept with the additional properties", fl.json, n.name)
			continue
		}
		t, opt := e.fieldType(fl)
		text := fmt.Sprintf("%s is the %q member", fl.name, fl.json)
		switch {
		case fl.required && fl.nullable:
			text += " (required, may be null)"
		case fl.required:
			text += " (required)"
		case fl.nullable:
			text += " (optional, may be null)"
		default:
			text += " (optional)"
		}
		if kinds := fl.typ.rawKinds(); kinds != nil {
			text += fmt.Sprintf(", a JSON %s; decode it with json.Unmarshal", strings.Join(kinds, " or "))
		} else if fl.typ.isRaw() {
			text += ", any JSON value; decode it with json.Unmarshal"
		}
		if fl.constVal != "" {
			text += fmt.Sprintf("; always %q", fl.constVal)
		}
		fields = append(fields, doc(text+".", fl.doc).Id(fl.name).Add(t).Tag(map[string]string{"json": fl.json + opt}))
	}
	if n.extra != nil {
		fields = append(fields, doc(n.extraF+" holds the members the schema does not describe, so that they\nsurvive a decode and encode round trip.").
			Id(n.extraF).Map(jen.String()).Add(e.typ(n.extra)).Tag(map[string]string{"json": "-"}))
	}
	f.Add(doc(fmt.Sprintf("%s is the object schema %s.", n.name, n.name), n.doc))
	f.Type().Id(n.name).Struct(fields...)
	f.Line()
	if n.extra == nil {
		return
	}
	ns := e.g.ns.Child()
	recv := ns.Unexported("v")
	plain := ns.Unexported("plain")
	b := ns.Unexported("b")
	f.Add(doc(fmt.Sprintf("MarshalJSON encodes %s with its additional properties.", n.name)))
	f.Func().Params(jen.Id(recv).Id(n.name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Type().Id(plain).Id(n.name),
		jen.List(jen.Id(b), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id(plain).Call(jen.Id(recv))),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(e.helper("marshalExtra").Call(jen.Id(b), jen.Id(recv).Dot(n.extraF))),
	)
	f.Line()
}

func (e *emitter) enumType(f *jen.File, n *namedType) {
	f.Add(doc(fmt.Sprintf("%s is an open enumeration: the constants below are the values the spec\nlists, and other values decode without error (see IsKnown).", n.name), n.doc))
	f.Type().Id(n.name).String()
	f.Line()
	if len(n.values) > 0 {
		var defs []jen.Code
		for _, v := range n.values {
			defs = append(defs, doc(fmt.Sprintf("%s is the value %q.", v.name, v.value), v.doc).Id(v.name).Id(n.name).Op("=").Lit(v.value))
		}
		f.Add(doc(fmt.Sprintf("Values of %s.", n.name)))
		f.Const().Defs(defs...)
		f.Line()
	}
	recv := e.g.ns.Child().Unexported("v")
	var cases []jen.Code
	for _, v := range n.values {
		cases = append(cases, jen.Id(v.name))
	}
	body := []jen.Code{}
	if len(cases) > 0 {
		body = append(body, jen.Switch(jen.Id(recv)).Block(jen.Case(cases...).Block(jen.Return(jen.True()))))
	}
	body = append(body, jen.Return(jen.False()))
	f.Add(doc(fmt.Sprintf("IsKnown reports whether %s is one of the values the spec lists.", recv)))
	f.Func().Params(jen.Id(recv).Id(n.name)).Id("IsKnown").Params().Bool().Block(body...)
	f.Line()
}

func (e *emitter) sumType(f *jen.File, n *namedType) {
	var names []string
	for _, v := range n.variants {
		names = append(names, v.name)
	}
	intro := fmt.Sprintf("%s is one of: %s. Kind says which field holds the value; a value\nthat matches no variant is kept in %s with an empty Kind.", n.name, strings.Join(names, ", "), n.rawField)
	if n.discriminator != "" {
		intro += fmt.Sprintf(" The %q member selects the variant.", n.discriminator)
	}
	fields := []jen.Code{doc("Kind says which variant is set.").Id("Kind").Id(n.kindType)}
	for _, v := range n.variants {
		t := e.typ(v.typ)
		if n.recursive {
			t = jen.Op("*").Add(t)
		}
		fields = append(fields, doc(fmt.Sprintf("%s is set when Kind is %s.", v.name, v.kindConst)).Id(v.name).Add(t))
	}
	fields = append(fields, doc(n.rawField+" holds a value that matched no variant.").Id(n.rawField).Qual("encoding/json", "RawMessage"))
	f.Add(doc(intro, n.doc))
	f.Type().Id(n.name).Struct(fields...)
	f.Line()
	f.Add(doc(fmt.Sprintf("%s names a variant of %s.", n.kindType, n.name)))
	f.Type().Id(n.kindType).String()
	f.Line()
	var defs []jen.Code
	for _, v := range n.variants {
		text := fmt.Sprintf("%s marks the %s variant.", v.kindConst, v.name)
		if n.discriminator != "" && len(v.tags) > 0 {
			text = fmt.Sprintf("%s marks the %s variant; its value is the tag the %q member carries.", v.kindConst, v.name, n.discriminator)
		}
		defs = append(defs, doc(text).Id(v.kindConst).Id(n.kindType).Op("=").Lit(kindValue(n, v)))
	}
	f.Add(doc(fmt.Sprintf("Variants of %s.", n.name)))
	f.Const().Defs(defs...)
	f.Line()

	ns := e.g.ns.Child()
	recv := ns.Unexported("v")
	data := ns.Unexported("data")
	// MarshalJSON
	var mcases []jen.Code
	b := ns.Unexported("b")
	for _, v := range n.variants {
		if n.discriminator == "" || len(v.tags) == 0 || v.typ.jsonKind() != "object" {
			mcases = append(mcases, jen.Case(jen.Id(v.kindConst)).Block(jen.Return(jen.Qual("encoding/json", "Marshal").Call(jen.Id(recv).Dot(v.name)))))
			continue
		}
		args := []jen.Code{jen.Id(b), jen.Lit(n.discriminator)}
		for _, t := range v.tags {
			args = append(args, jen.Lit(t))
		}
		mcases = append(mcases, jen.Case(jen.Id(v.kindConst)).Block(
			jen.List(jen.Id(b), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id(recv).Dot(v.name)),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
			jen.Return(e.helper("withTag").Call(args...)),
		))
	}
	mtext := fmt.Sprintf("MarshalJSON encodes the variant Kind names, or %s.", n.rawField)
	if n.discriminator != "" {
		mtext += fmt.Sprintf(" The %q member is written with the\nvariant's tag, whatever the variant's own field holds (a tag of the variant\nit already holds is kept).", n.discriminator)
	}
	f.Add(doc(mtext))
	f.Func().Params(jen.Id(recv).Id(n.name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Switch(jen.Id(recv).Dot("Kind")).Block(mcases...),
		jen.If(jen.Len(jen.Id(recv).Dot(n.rawField)).Op(">").Lit(0)).Block(jen.Return(jen.Id(recv).Dot(n.rawField), jen.Nil())),
		jen.Return(jen.Index().Byte().Call(jen.Lit("null")), jen.Nil()),
	)
	f.Line()
	e.sumConstructors(f, n)

	set := func(v *variant) []jen.Code {
		target := jen.Op("&").Id(recv).Dot(v.name)
		var pre []jen.Code
		if n.recursive {
			pre = append(pre, jen.Id(recv).Dot(v.name).Op("=").New(e.typ(v.typ)))
			target = jen.Id(recv).Dot(v.name)
		}
		decode := jen.Qual("encoding/json", "Unmarshal").Call(jen.Id(data), target)
		if isIntType(v.typ) && !n.recursive {
			// Integers decode as the generated decoders decode them, so
			// that 1.0 and 1e2 are integers here too.
			if fn, ok := (&jsonMember{jsonFn: &jsonFn{e: e}}).scalarFunc(v.typ); ok {
				decode = e.rt("DecodeJSONScalarBytes").Call(jen.Id(data), target, e.rt(fn).Types(e.typ(v.typ)))
			}
		}
		return append(pre, jen.Id(recv).Dot("Kind").Op("=").Id(v.kindConst), jen.Return(decode))
	}
	byKind := map[string][]*variant{}
	var anyV *variant
	for _, v := range n.variants {
		k := v.typ.jsonKind()
		if k == "" {
			if anyV == nil {
				anyV = v
			}
			continue
		}
		byKind[k] = append(byKind[k], v)
	}
	// String enums are told apart from other strings by their values.
	var enums, plain []*variant
	for _, v := range byKind["string"] {
		if v.typ.kind == tNamed && v.typ.named.kind == ntEnum && len(v.typ.named.values) > 0 {
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
			for _, ev := range v.typ.named.values {
				lits = append(lits, jen.Lit(ev.value))
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
			e.g.warn(originOf(e.g.schemaOf[n]), "variants %s and %s of %s are both JSON %ss and nothing tells them apart; such values decode as %s", vs[0].name, vs[1].name, n.name, k, vs[0].name)
		}
	}
	var outer []jen.Code
	if objs := byKind["object"]; len(objs) > 0 {
		var body []jen.Code
		if n.discriminator != "" {
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
		var intV, floatV *variant
		for _, v := range nums {
			if isIntType(v.typ) {
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
			jen.Id(recv).Dot(n.rawField).Op("=").Qual("bytes", "Clone").Call(jen.Id(data)),
			jen.Return(jen.Nil()),
		}
	}
	text := fmt.Sprintf("UnmarshalJSON decodes the variant the JSON value matches, or keeps the value\nin %s when none does", n.rawField)
	if anyV == nil && len(outer) > 0 {
		// A value of a kind no variant has (a boolean where every variant
		// is an object, say) is refused: it is not a newer variant.
		text += "; a value of a kind no variant has is refused"
		outer = append(outer,
			jen.Case(jen.LitRune('n')),
			jen.Default().Block(jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(n.name+": a JSON value of this kind is none of its variants: %.40q"), jen.Id(data)))))
	}
	f.Add(doc(text + "."))
	blk := []jen.Code{jen.Op("*").Id(recv).Op("=").Id(n.name).Values()}
	if len(outer) > 0 {
		blk = append(blk, jen.Switch(e.helper("jsonKindOf").Call(jen.Id(data))).Block(outer...))
	}
	blk = append(blk, tail...)
	f.Func().Params(jen.Id(recv).Op("*").Id(n.name)).Id("UnmarshalJSON").Params(jen.Id(data).Index().Byte()).Error().Block(blk...)
	f.Line()
}

func isIntType(t *typeRef) bool {
	for t.kind == tNamed && (t.named.kind == ntDef || t.named.kind == ntAlias) && t.named.under != nil {
		t = t.named.under
	}
	return t.kind == tBasic && strings.HasPrefix(t.name, "int")
}

// sumLocals are the names the UnmarshalJSON of a sum type uses; every
// piece of it allocates them the same way, from a fresh child namespace.
func (e *emitter) sumLocals() (recv, data, members, tag, raw, ok string) {
	ns := e.g.ns.Child()
	return ns.Unexported("v"), ns.Unexported("data"), ns.Unexported("members"), ns.Unexported("tag"), ns.Unexported("raw"), ns.Unexported("ok")
}

// sumByTag returns the statements choosing among the object variants objs
// of n by the value of its discriminator member.
func (e *emitter) sumByTag(n *namedType, objs []*variant, set func(*variant) []jen.Code) []jen.Code {
	_, data, m, tag, raw, ok := e.sumLocals()
	var cases []jen.Code
	for _, v := range objs {
		if len(v.tags) == 0 {
			continue
		}
		var lits []jen.Code
		for _, t := range v.tags {
			lits = append(lits, jen.Lit(t))
		}
		cases = append(cases, jen.Case(lits...).Block(set(v)...))
	}
	body := []jen.Code{
		jen.List(jen.Id(m), jen.Err()).Op(":=").Add(e.helper("probe")).Call(jen.Id(data)),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Var().Id(tag).String(),
		jen.If(jen.List(jen.Id(raw), jen.Id(ok)).Op(":=").Id(m).Index(jen.Lit(n.discriminator)), jen.Id(ok)).Block(
			jen.If(jen.Err().Op("=").Qual("encoding/json", "Unmarshal").Call(jen.Id(raw), jen.Op("&").Id(tag)), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("%s: discriminator %q: %%w", n.name, n.discriminator)), jen.Err())))),
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
func (e *emitter) sumByMembers(n *namedType, objs []*variant) []jen.Code {
	recv, data, m, _, _, _ := e.sumLocals()
	order := slices.Clone(objs)
	slices.SortStableFunc(order, func(a, b *variant) int { return b.specificity() - a.specificity() })
	var body []jen.Code
	probed := false
	for _, v := range order {
		var conds []jen.Code
		for _, r := range v.required {
			if !slices.ContainsFunc(v.values, func(mv memberValues) bool { return mv.name == r && mv.required }) {
				conds = append(conds, e.helper("has").Call(jen.Id(m), jen.Lit(r)))
			}
		}
		for _, mv := range v.values {
			args := []jen.Code{jen.Id(m), jen.Lit(mv.name), jen.Lit(mv.required)}
			for _, val := range mv.values {
				args = append(args, jen.Lit(val))
			}
			conds = append(conds, e.helper("memberIn").Call(args...))
		}
		if v.closed {
			args := []jen.Code{jen.Id(m)}
			for _, k := range v.known {
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
		target := jen.Op("&").Id(recv).Dot(v.name)
		var try []jen.Code
		if n.recursive {
			try = append(try, jen.Id(recv).Dot(v.name).Op("=").New(e.typ(v.typ)))
			target = jen.Id(recv).Dot(v.name)
		}
		ok := jen.Qual("encoding/json", "Unmarshal").Call(jen.Id(data), target).Op("==").Nil()
		if isSum(v.typ) {
			// A nested union takes any value, keeping what it cannot type
			// in its Raw: it is this variant only when one of its own
			// variants took the value.
			ok = ok.Op("&&").Id(recv).Dot(v.name).Dot("Kind").Op("!=").Lit("")
		}
		try = append(try,
			jen.If(ok).Block(
				jen.Id(recv).Dot("Kind").Op("=").Id(v.kindConst), jen.Return(jen.Nil())),
			jen.Op("*").Id(recv).Op("=").Id(n.name).Values(),
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
func isSum(t *typeRef) bool {
	for t.kind == tNamed && t.named.kind == ntAlias && t.named.under != nil {
		t = t.named.under
	}
	return t.kind == tNamed && t.named.kind == ntSum
}

// kindValue is the value of the Kind constant of variant v of n: the wire
// tag of a discriminated variant, else the variant's name.
func kindValue(n *namedType, v *variant) string {
	if n.discriminator != "" && len(v.tags) > 0 {
		return v.tags[0]
	}
	return v.name
}

// sumConstructors renders a constructor per variant of n, New<Variant><Sum>,
// which sets Kind so that the value encodes as that variant.
func (e *emitter) sumConstructors(f *jen.File, n *namedType) {
	for _, v := range n.variants {
		name := v.constructor
		arg := e.g.ns.Child().Unexported("v")
		val := jen.Id(arg)
		if n.recursive {
			val = jen.Op("&").Id(arg)
		}
		text := fmt.Sprintf("%s returns a %s holding the %s variant.", name, n.name, v.name)
		if n.discriminator != "" && len(v.tags) > 0 {
			text = fmt.Sprintf("%s returns a %s holding the %s variant, encoded with %q\nas its %q member.", name, n.name, v.name, v.tags[0], n.discriminator)
		}
		f.Add(doc(text))
		f.Func().Id(name).Params(jen.Id(arg).Add(e.typ(v.typ))).Id(n.name).Block(
			jen.Return(jen.Id(n.name).Values(jen.Dict{jen.Id("Kind"): jen.Id(v.kindConst), jen.Id(v.name): val})),
		)
		f.Line()
	}
}

// rawKindsType renders a named schema that allows only some JSON kinds
// (type: "null", or a list of types) as raw JSON with methods that keep it
// raw when encoded and refuse a value of any other kind when decoded.
func (e *emitter) rawKindsType(f *jen.File, n *namedType, kinds []string) {
	f.Add(doc(fmt.Sprintf("%s is a JSON %s, kept as it was received; decode it with json.Unmarshal.", n.name, strings.Join(kinds, " or ")), n.doc))
	f.Type().Id(n.name).Qual("encoding/json", "RawMessage")
	f.Line()
	recv, data := e.g.ns.Child().Unexported("v"), "data"
	f.Add(doc(fmt.Sprintf("MarshalJSON writes %s as it is (null when empty).", n.name)))
	f.Func().Params(jen.Id(recv).Id(n.name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Return(jen.Qual("encoding/json", "RawMessage").Call(jen.Id(recv)).Dot("MarshalJSON").Call()))
	f.Line()
	f.Add(doc(fmt.Sprintf("UnmarshalJSON keeps data, one JSON %s, as it is.", strings.Join(kinds, " or "))))
	f.Func().Params(jen.Id(recv).Op("*").Id(n.name)).Id("UnmarshalJSON").Params(jen.Id(data).Index().Byte()).Error().Block(
		jen.Return(e.rt("UnmarshalJSONRawKinds").Call(jen.Id(data), jen.Id(recv), e.kindsExpr(kinds))))
	f.Line()
}
