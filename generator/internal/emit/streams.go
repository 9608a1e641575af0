package emit

import (
	"fmt"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/dave/jennifer/jen"
)

// streamItem is the type the iterator of a streamed operation yields.
func (e *emitter) streamItem(o *ir.Operation) *jen.Statement {
	if o.Stream.Kind == ir.StreamSSE {
		return jen.Id(o.Stream.ItemType)
	}
	return e.typ(o.Stream.Item)
}

// streamWords documents how a method returns its response.
func (e *emitter) streamWords(o *ir.Operation) string {
	switch {
	case o.Stream != nil:
		return fmt.Sprintf("The response (%s) is read as it arrives: range over the returned iterator;\nthe body is closed when the loop ends or ctx ends. A failed call is the\nfirst and only error yielded; a malformed item ends the stream with a\n*runtime.ProtocolError.", o.Stream.Media)
	case o.Streaming:
		return "The body of the response is returned unread, as it arrives; the caller\nmust close it. Timeouts bound the wait for the response headers only."
	}
	return ""
}

// streamCall renders the return statement of a streamed operation.
func (e *emitter) streamCall(o *ir.Operation, recv, ctx, req, opts string) jen.Code {
	rt := jen.Id(recv).Dot("rt")
	if o.Stream.Kind == ir.StreamSSE {
		return jen.Return(e.rt("StreamSSE").Call(jen.Id(ctx), rt, jen.Op("&").Id(req), jen.Id(e.sseDecodeName(o)), jen.Id(opts).Op("...")))
	}
	framing := "JSONLines"
	if o.Stream.Kind == ir.StreamJSONSeq {
		framing = "JSONSeq"
	}
	return jen.Return(e.rt("StreamRecords").Types(e.typ(o.Stream.Item)).Call(jen.Id(ctx), rt, jen.Op("&").Id(req), e.rt(framing), jen.Id(opts).Op("...")))
}

func (e *emitter) sseDecodeName(o *ir.Operation) string {
	return "decode" + o.Stream.ItemType
}

// sseEventType renders the event type of an SSE operation and the function
// that decodes a runtime.SSEEvent into it.
func (e *emitter) sseEventType(f *jen.File, o *ir.Operation) {
	s := o.Stream
	fields := []jen.Code{
		doc("Type is the event type: its \"event\" field, \"message\" when it has none.").Id("Type").String(),
		doc("ID is the last event ID when the event came: send it as Last-Event-ID\n(runtime.WithHeader) to resume the stream after this event.").Id("ID").String(),
		doc("Retry is the reconnection time the stream last set, or 0.").Id("Retry").Qual("time", "Duration"),
	}
	ev := "ev"
	out := "out"
	body := []jen.Code{jen.Id(out).Op(":=").Id(s.ItemType).Values(jen.Dict{
		jen.Id("Type"):  jen.Id(ev).Dot("Type"),
		jen.Id("ID"):    jen.Id(ev).Dot("ID"),
		jen.Id("Retry"): jen.Id(ev).Dot("Retry"),
	})}
	decodeInto := func(dst jen.Code) jen.Code {
		return jen.If(jen.Err().Op(":=").Add(e.rt("DecodeJSONInto")).Call(jen.Id(ev).Dot("Data"), dst), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id(out), jen.Err()))
	}
	var kinds []string
	switch {
	case len(s.Events) > 0:
		var cases []jen.Code
		for _, se := range s.Events {
			kinds = append(kinds, fmt.Sprintf("%q", se.Name))
			fields = append(fields, doc(fmt.Sprintf("%s is the data of an event named %q; nil for another event.", se.Field, se.Name)).Id(se.Field).Op("*").Add(e.typ(se.Type)))
			cases = append(cases, jen.Case(jen.Lit(se.Name)).Block(
				jen.Id(out).Dot(se.Field).Op("=").New(e.typ(se.Type)),
				decodeInto(jen.Id(out).Dot(se.Field)),
			))
		}
		fields = append(fields, doc("Raw is the data of an event of another type, as received: a type this\nclient does not know is not an error.").Id("Raw").String())
		cases = append(cases, jen.Default().Block(jen.Id(out).Dot("Raw").Op("=").String().Call(jen.Id(ev).Dot("Data"))))
		body = append(body, jen.Switch(jen.Id(ev).Dot("Type")).Block(cases...))
	case s.Item != nil:
		fields = append(fields, doc("Data is the event's data, decoded.").Id("Data").Add(e.typ(s.Item)))
		body = append(body, decodeInto(jen.Op("&").Id(out).Dot("Data")))
	default:
		fields = append(fields, doc("Data is the event's data.").Id("Data").String())
		body = append(body, jen.Id(out).Dot("Data").Op("=").String().Call(jen.Id(ev).Dot("Data")))
	}
	body = append(body, jen.Return(jen.Id(out), jen.Nil()))
	text := fmt.Sprintf("%s is one event of the %s stream.", s.ItemType, o.GoName)
	if len(kinds) > 0 {
		text += fmt.Sprintf(" The events %s are decoded\ninto their fields; any other is kept in Raw.", strings.Join(kinds, ", "))
	}
	f.Add(doc(text))
	f.Type().Id(s.ItemType).Struct(fields...)
	f.Line()
	f.Add(doc(fmt.Sprintf("%s turns an event of the %s stream into a %s.", e.sseDecodeName(o), o.GoName, s.ItemType)))
	f.Func().Id(e.sseDecodeName(o)).Params(jen.Id(ev).Add(e.rt("SSEEvent"))).Params(jen.Id(s.ItemType), jen.Error()).Block(body...)
	f.Line()
}
