package emit

import (
	"fmt"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/dave/jennifer/jen"
)

// streamFile renders the WebSocket path functions, the frame types and the
// frame decoder of the x-websocket extension.
func (e *emitter) streamFile() *jen.File {
	f := e.newFile()
	for _, o := range e.api.Operations {
		if o.WebSocket {
			e.streamPath(f, o)
		}
	}
	s := e.api.WebSocket
	if s == nil {
		return f
	}
	o := s.Op
	var names []string
	for _, fr := range s.Frames {
		names = append(names, fr.Wrapper)
	}
	names = append(names, s.Unknown)
	f.Add(doc(fmt.Sprintf("%s is a frame the server sends on %s %s. It is one of %s;\nswitch on its dynamic type. %s decodes one; %s decodes one in place, into a %s.", s.Iface, o.Method, o.Path, strings.Join(names, ", "), s.Decode, s.DecodeInto, s.Value)))
	f.Type().Id(s.Iface).Interface(jen.Id(s.Marker).Params())
	f.Line()
	for _, fr := range s.Frames {
		var how string
		switch fr.Match {
		case "array":
			how = "a JSON array"
		case "untagged-object":
			how = fmt.Sprintf("an object without a %q member", s.TypeField)
		default:
			how = fmt.Sprintf("an object whose %q member is %q", s.TypeField, fr.Name)
		}
		f.Add(doc(fmt.Sprintf("%s is the %q frame: %s, holding a %s.", fr.Wrapper, fr.Name, how, e.typeName(fr.Type))))
		f.Type().Id(fr.Wrapper).Struct(e.typ(fr.Type))
		f.Line()
		f.Func().Params(jen.Id(fr.Wrapper)).Id(s.Marker).Params().Block()
		f.Line()
	}
	f.Add(doc(fmt.Sprintf("%s is a frame of a type this package does not know, from a newer\nserver: %s names it and Raw holds the frame.", s.Unknown, "Type")))
	f.Type().Id(s.Unknown).Struct(
		doc("Type is the frame's "+fmt.Sprintf("%q", s.TypeField)+" member.").Id("Type").String(),
		doc("Raw is the frame as received.").Id("Raw").Qual("encoding/json", "RawMessage"),
	)
	f.Line()
	f.Func().Params(jen.Id(s.Unknown)).Id(s.Marker).Params().Block()
	f.Line()

	f.Add(doc(fmt.Sprintf("%s is a frame %s cannot decode: not JSON, not an object or\narray, or a known frame whose content does not match its schema.", s.ErrType, s.Decode)))
	f.Type().Id(s.ErrType).Struct(
		doc("Frame names the frame type being decoded, if known.").Id("Frame").String(),
		doc("Reason says what is wrong.").Id("Reason").String(),
		doc("Err is the underlying decoding error, if any.").Id("Err").Error(),
	)
	f.Line()
	f.Add(doc("Error describes the frame error."))
	f.Func().Params(jen.Id("e").Op("*").Id(s.ErrType)).Id("Error").Params().String().Block(
		jen.Id("msg").Op(":=").Lit("stream frame"),
		jen.If(jen.Id("e").Dot("Frame").Op("!=").Lit("")).Block(jen.Id("msg").Op("+=").Lit(" ").Op("+").Qual("strconv", "Quote").Call(jen.Id("e").Dot("Frame"))),
		jen.Id("msg").Op("+=").Lit(": ").Op("+").Id("e").Dot("Reason"),
		jen.If(jen.Id("e").Dot("Err").Op("!=").Nil()).Block(jen.Id("msg").Op("+=").Lit(": ").Op("+").Id("e").Dot("Err").Dot("Error").Call()),
		jen.Return(jen.Id("msg")),
	)
	f.Line()
	f.Add(doc("Unwrap returns the underlying decoding error."))
	f.Func().Params(jen.Id("e").Op("*").Id(s.ErrType)).Id("Unwrap").Params().Error().Block(jen.Return(jen.Id("e").Dot("Err")))
	f.Line()

	e.streamValue(f, s)
	e.streamDecoders(f, s)

	if len(s.Clients) > 0 {
		var cn []string
		for _, c := range s.Clients {
			cn = append(cn, c.Name)
		}
		f.Add(doc(fmt.Sprintf("%s is a frame the client may send on %s %s: one of %s.\n%s encodes one.", s.ClientIface, o.Method, o.Path, strings.Join(cn, ", "), s.Encode)))
		f.Type().Id(s.ClientIface).Interface(jen.Id(s.ClientMarker).Params())
		f.Line()
		for _, c := range s.Clients {
			f.Func().Params(jen.Id(c.Name)).Id(s.ClientMarker).Params().Block()
			f.Line()
		}
		fr := e.api.Names.Child().Unexported("frame")
		f.Add(doc(fmt.Sprintf("%s encodes a client frame as the text of a WebSocket message.", s.Encode)))
		f.Func().Id(s.Encode).Params(jen.Id(fr).Id(s.ClientIface)).Params(jen.Index().Byte(), jen.Error()).Block(
			jen.List(jen.Id("b"), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id(fr)),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("encode stream frame: %w"), jen.Err()))),
			jen.Return(jen.Id("b"), jen.Nil()),
		)
		f.Line()
	}
	return f
}

// embeddedName is the field name of an embedded type.
func embeddedName(t *ir.TypeRef) string { return t.Name }

// streamPath renders the path function of a WebSocket operation.
func (e *emitter) streamPath(f *jen.File, o *ir.Operation) {
	ns := e.api.Names.Child()
	args := map[*ir.Param]string{}
	var params []jen.Code
	for _, p := range o.PathParams {
		args[p] = ns.Unexported(p.GoName)
		params = append(params, jen.Id(args[p]).Add(e.typ(p.Type)))
	}
	var pn string
	if o.ParamsType != "" {
		pn = ns.Unexported("params")
		params = append(params, jen.Id(pn).Id(o.ParamsType))
	}
	path := ns.Unexported("path")
	body := []jen.Code{jen.Id(path).Op(":=").Add(e.pathExpr(o, args))}
	if len(o.Query) > 0 {
		q := ns.Unexported("query")
		body = append(body, jen.If(jen.Id(q).Op(":=").Id(pn).Dot("encodeQuery").Call(), jen.Len(jen.Id(q)).Op(">").Lit(0)).Block(
			jen.Return(jen.Id(path).Op("+").Lit("?").Op("+").Id(q).Dot("Encode").Call())))
	}
	body = append(body, jen.Return(jen.Id(path)))
	text := fmt.Sprintf("%s returns the path and query of %s %s", o.GoName, o.Method, o.Path)
	if o.ID != "" {
		text += fmt.Sprintf(" (operation %s)", o.ID)
	}
	text += ",\na WebSocket endpoint: dial the base URL with its scheme changed to ws or wss\nand this path appended."
	f.Add(doc(text, o.Summary, o.Description))
	f.Func().Id(o.GoName).Params(params...).String().Block(body...)
	f.Line()
}

// streamValue renders the struct that holds any server frame, its kinds
// and its Frame method: what a stream decodes into in place, so that a
// reader of many frames reuses one value instead of allocating a frame
// each.
func (e *emitter) streamValue(f *jen.File, s *ir.WebSocket) {
	f.Add(doc(fmt.Sprintf("%s says which frame a %s holds.", s.KindType, s.Value)))
	f.Type().Id(s.KindType).Int()
	f.Line()
	var consts []jen.Code
	for i, fr := range s.Frames {
		c := doc(fmt.Sprintf("%s is a %s, in the %s field.", fr.Kind, fr.Wrapper, fr.Field)).Id(fr.Kind)
		if i == 0 {
			c = c.Id(s.KindType).Op("=").Iota().Op("+").Lit(1)
		}
		consts = append(consts, c)
	}
	c := doc(fmt.Sprintf("%s is a %s, in the %s field.", s.UnknownKind, s.Unknown, s.UnknownField)).Id(s.UnknownKind)
	if len(s.Frames) == 0 {
		c = c.Id(s.KindType).Op("=").Iota().Op("+").Lit(1)
	}
	consts = append(consts, c)
	f.Add(doc(fmt.Sprintf("The kinds of %s.", s.Value)))
	f.Const().Defs(consts...)
	f.Line()

	fields := []jen.Code{doc("Kind says which field holds the frame; 0 for none.").Id("Kind").Id(s.KindType)}
	cases := []jen.Code{}
	recv := e.api.Names.Child().Unexported("f")
	for _, fr := range s.Frames {
		fields = append(fields, doc(fmt.Sprintf("%s holds the frame when Kind is %s.", fr.Field, fr.Kind)).Id(fr.Field).Id(fr.Wrapper))
		cases = append(cases, jen.Case(jen.Id(fr.Kind)).Block(jen.Return(jen.Id(recv).Dot(fr.Field))))
	}
	fields = append(fields, doc(fmt.Sprintf("%s holds the frame when Kind is %s: a frame of a type this package does not know.", s.UnknownField, s.UnknownKind)).Id(s.UnknownField).Id(s.Unknown))
	cases = append(cases, jen.Case(jen.Id(s.UnknownKind)).Block(jen.Return(jen.Id(recv).Dot(s.UnknownField))))
	f.Add(doc(fmt.Sprintf("%s holds one server frame of %s %s, whichever it is: Kind says which\nfield holds it; the other fields keep what earlier frames left in them.\n%s decodes a frame into one, reusing its memory from frame to frame.", s.Value, s.Op.Method, s.Op.Path, s.DecodeInto)))
	f.Type().Id(s.Value).Struct(fields...)
	f.Line()
	f.Add(doc(fmt.Sprintf("Frame returns the frame %s holds as a %s, or nil when it holds none.", recv, s.Iface)))
	f.Func().Params(jen.Id(recv).Op("*").Id(s.Value)).Id("Frame").Params().Id(s.Iface).Block(
		jen.Switch(jen.Id(recv).Dot("Kind")).Block(cases...),
		jen.Return(jen.Nil()),
	)
	f.Line()
}

// streamDecoders renders the function that tells a frame's kind, the
// decoder into a value and the decoder that returns a StreamFrame.
func (e *emitter) streamDecoders(f *jen.File, s *ir.WebSocket) {
	o := s.Op
	ns := e.api.Names.Child()
	data := ns.Unexported("data")
	tag := ns.Unexported("tag")
	found := ns.Unexported("found")
	frameErr := func(d jen.Dict) jen.Code { return jen.Op("&").Id(s.ErrType).Values(d) }

	// The kind of a frame: from its first byte, then from its tag.
	var arrayFrame, untagged *ir.Frame
	var tagged []jen.Code
	for _, fr := range s.Frames {
		switch fr.Match {
		case "array":
			if arrayFrame == nil {
				arrayFrame = fr
			}
		case "untagged-object":
			if untagged == nil {
				untagged = fr
			}
		default:
			tagged = append(tagged, jen.Case(jen.Lit(fr.Name)).Block(jen.Return(jen.Id(fr.Kind), jen.Nil(), jen.Nil())))
		}
	}
	var kindCases []jen.Code
	if arrayFrame != nil {
		kindCases = append(kindCases, jen.Case(jen.LitRune('[')).Block(jen.Return(jen.Id(arrayFrame.Kind), jen.Nil(), jen.Nil())))
	}
	obj := []jen.Code{
		jen.List(jen.Id(tag), jen.Id(found), jen.Err()).Op(":=").Add(e.rt("JSONTag")).Call(jen.Id(data), jen.Lit(s.TypeField)),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Lit(0), jen.Nil(), frameErr(jen.Dict{jen.Id("Reason"): jen.Lit("invalid JSON object"), jen.Id("Err"): jen.Err()})),
		),
	}
	if untagged != nil {
		obj = append(obj, jen.If(jen.Op("!").Id(found)).Block(jen.Return(jen.Id(untagged.Kind), jen.Nil(), jen.Nil())))
	} else {
		obj = append(obj, jen.If(jen.Op("!").Id(found)).Block(
			jen.Return(jen.Lit(0), jen.Nil(), frameErr(jen.Dict{jen.Id("Reason"): jen.Lit(fmt.Sprintf("object without a %q member", s.TypeField))}))))
	}
	if len(tagged) > 0 {
		obj = append(obj, jen.Switch(jen.String().Call(jen.Id(tag))).Block(tagged...))
	}
	obj = append(obj,
		jen.If(jen.Op("!").Qual("encoding/json", "Valid").Call(jen.Id(data))).Block(
			jen.Return(jen.Lit(0), jen.Nil(), frameErr(jen.Dict{jen.Id("Frame"): jen.String().Call(jen.Id(tag)), jen.Id("Reason"): jen.Lit("invalid JSON object")}))),
		jen.Return(jen.Id(s.UnknownKind), jen.Id(tag), jen.Nil()))
	kindCases = append(kindCases, jen.Case(jen.LitRune('{')).Block(obj...))
	f.Add(doc(fmt.Sprintf("%s returns the kind of the frame %s, and for a frame of an unknown\ntype, that type. It reads only as much of the frame as it takes to tell.", s.KindOf, data)))
	f.Func().Id(s.KindOf).Params(jen.Id(data).Index().Byte()).Params(jen.Id(s.KindType), jen.Index().Byte(), jen.Error()).Block(
		jen.Switch(e.rt("JSONKind").Call(jen.Id(data))).Block(kindCases...),
		jen.Return(jen.Lit(0), jen.Nil(), frameErr(jen.Dict{jen.Id("Reason"): jen.Lit("not a JSON object or array")})),
	)
	f.Line()

	// DecodeStreamFrameInto.
	r := ns.Unexported("r")
	fv := ns.Unexported("f")
	kind := ns.Unexported("kind")
	contentErr := func(fr *ir.Frame) jen.Code {
		return jen.Return(frameErr(jen.Dict{jen.Id("Frame"): jen.Lit(fr.Name), jen.Id("Reason"): jen.Lit("content does not match the schema"), jen.Id("Err"): jen.Err()}))
	}
	var intoCases []jen.Code
	for _, fr := range s.Frames {
		intoCases = append(intoCases, jen.Case(jen.Id(fr.Kind)).Block(
			jen.If(jen.Err().Op(":=").Id(r).Dot("Unmarshal").Call(jen.Id(data), jen.Op("&").Id(fv).Dot(fr.Field).Dot(embeddedName(fr.Type))), jen.Err().Op("!=").Nil()).Block(
				jen.Id(fv).Dot("Kind").Op("=").Lit(0),
				contentErr(fr),
			),
		))
	}
	raw := ns.Unexported("raw")
	intoCases = append(intoCases, jen.Case(jen.Id(s.UnknownKind)).Block(
		jen.Id(raw).Op(":=").Qual("encoding/json", "RawMessage").Call(jen.Id(data)),
		jen.If(jen.Id(r).Op("==").Nil().Op("||").Op("!").Id(r).Dot("Alias")).Block(jen.Id(raw).Op("=").Qual("bytes", "Clone").Call(jen.Id(data))),
		jen.Id(fv).Dot(s.UnknownField).Op("=").Id(s.Unknown).Values(jen.Dict{jen.Id("Type"): jen.String().Call(jen.Id(tag)), jen.Id("Raw"): jen.Id(raw)}),
	))
	f.Add(doc(fmt.Sprintf("%s decodes one server frame of %s %s into %s, as %s does,\nreading with %s's settings (a nil %s reads with the default ones): with a\nruntime.Interner's String as its Strings hook, strings that repeat from frame\nto frame are allocated once; with Alias set, raw JSON members share %s,\nwhich must then stay unmodified as long as they are in use. On an error\n%s.Kind is 0.", s.DecodeInto, o.Method, o.Path, fv, s.Decode, r, r, data, fv)))
	f.Func().Id(s.DecodeInto).Params(jen.Id(r).Op("*").Add(e.rt("JSONReader")), jen.Id(data).Index().Byte(), jen.Id(fv).Op("*").Id(s.Value)).Error().Block(
		jen.List(jen.Id(kind), jen.Id(tag), jen.Err()).Op(":=").Id(s.KindOf).Call(jen.Id(data)),
		jen.Id(fv).Dot("Kind").Op("=").Id(kind),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Switch(jen.Id(kind)).Block(intoCases...),
		jen.Return(jen.Nil()),
	)
	f.Line()

	// DecodeStreamFrame.
	v := ns.Unexported("v")
	var cases []jen.Code
	for _, fr := range s.Frames {
		cases = append(cases, jen.Case(jen.Id(fr.Kind)).Block(
			jen.Var().Id(v).Id(fr.Wrapper),
			jen.If(jen.Err().Op(":=").Add(e.rt("UnmarshalJSON")).Call(jen.Id(data), jen.Op("&").Id(v).Dot(embeddedName(fr.Type))), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Nil(), frameErr(jen.Dict{jen.Id("Frame"): jen.Lit(fr.Name), jen.Id("Reason"): jen.Lit("content does not match the schema"), jen.Id("Err"): jen.Err()})),
			),
			jen.Return(jen.Id(v), jen.Nil()),
		))
	}
	f.Add(doc(fmt.Sprintf("%s decodes one server frame of %s %s. A frame with an unknown\n%q is returned as %s, so that a newer server does not break the client;\nmalformed frames are a *%s.", s.Decode, o.Method, o.Path, s.TypeField, s.Unknown, s.ErrType)))
	f.Func().Id(s.Decode).Params(jen.Id(data).Index().Byte()).Params(jen.Id(s.Iface), jen.Error()).Block(
		jen.List(jen.Id(kind), jen.Id(tag), jen.Err()).Op(":=").Id(s.KindOf).Call(jen.Id(data)),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.If(jen.Id(kind).Op("==").Id(s.UnknownKind)).Block(
			jen.Return(jen.Id(s.Unknown).Values(jen.Dict{jen.Id("Type"): jen.String().Call(jen.Id(tag)), jen.Id("Raw"): jen.Qual("bytes", "Clone").Call(jen.Id(data))}), jen.Nil()),
		),
		jen.Switch(jen.Id(kind)).Block(cases...),
		jen.Return(jen.Nil(), jen.Nil()),
	)
	f.Line()
}
