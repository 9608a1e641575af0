package generator

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
)

// streamItem is the type the iterator of a streamed operation yields.
func (e *emitter) streamItem(o *operation) *jen.Statement {
	if o.stream.kind == streamSSE {
		return jen.Id(o.stream.itemType)
	}
	return e.typ(o.stream.item)
}

// streamWords documents how a method returns its response.
func (e *emitter) streamWords(o *operation) string {
	switch {
	case o.stream != nil:
		return fmt.Sprintf("The response (%s) is read as it arrives: range over the returned iterator;\nthe body is closed when the loop ends or ctx ends. A failed call is the\nfirst and only error yielded; a malformed item ends the stream with a\n*runtime.ProtocolError.", o.stream.media)
	case o.streaming:
		return "The body of the response is returned unread, as it arrives; the caller\nmust close it. Timeouts bound the wait for the response headers only."
	}
	return ""
}

// streamCall renders the return statement of a streamed operation.
func (e *emitter) streamCall(o *operation, recv, ctx, req, opts string) jen.Code {
	rt := jen.Id(recv).Dot("rt")
	if o.stream.kind == streamSSE {
		return jen.Return(e.rt("StreamSSE").Call(jen.Id(ctx), rt, jen.Op("&").Id(req), jen.Id(e.sseDecodeName(o)), jen.Id(opts).Op("...")))
	}
	framing := "JSONLines"
	if o.stream.kind == streamJSONSeq {
		framing = "JSONSeq"
	}
	return jen.Return(e.rt("StreamRecords").Types(e.typ(o.stream.item)).Call(jen.Id(ctx), rt, jen.Op("&").Id(req), e.rt(framing), jen.Id(opts).Op("...")))
}

func (e *emitter) sseDecodeName(o *operation) string {
	return "decode" + o.stream.itemType
}

// sseEventType renders the event type of an SSE operation and the function
// that decodes a runtime.SSEEvent into it.
func (e *emitter) sseEventType(f *jen.File, o *operation) {
	s := o.stream
	fields := []jen.Code{
		doc("Type is the event type: its \"event\" field, \"message\" when it has none.").Id("Type").String(),
		doc("ID is the last event ID when the event came: send it as Last-Event-ID\n(runtime.WithHeader) to resume the stream after this event.").Id("ID").String(),
		doc("Retry is the reconnection time the stream last set, or 0.").Id("Retry").Qual("time", "Duration"),
	}
	ev := "ev"
	out := "out"
	body := []jen.Code{jen.Id(out).Op(":=").Id(s.itemType).Values(jen.Dict{
		jen.Id("Type"):  jen.Id(ev).Dot("Type"),
		jen.Id("ID"):    jen.Id(ev).Dot("ID"),
		jen.Id("Retry"): jen.Id(ev).Dot("Retry"),
	})}
	decodeInto := func(dst jen.Code) jen.Code {
		return jen.If(jen.Err().Op(":=").Add(e.rt("DecodeJSONInto")).Call(jen.Id(ev).Dot("Data"), dst), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id(out), jen.Err()))
	}
	var kinds []string
	switch {
	case len(s.events) > 0:
		var cases []jen.Code
		for _, se := range s.events {
			kinds = append(kinds, fmt.Sprintf("%q", se.name))
			fields = append(fields, doc(fmt.Sprintf("%s is the data of an event named %q; nil for another event.", se.field, se.name)).Id(se.field).Op("*").Add(e.typ(se.typ)))
			cases = append(cases, jen.Case(jen.Lit(se.name)).Block(
				jen.Id(out).Dot(se.field).Op("=").New(e.typ(se.typ)),
				decodeInto(jen.Id(out).Dot(se.field)),
			))
		}
		fields = append(fields, doc("Raw is the data of an event of another type, as received: a type this\nclient does not know is not an error.").Id("Raw").String())
		cases = append(cases, jen.Default().Block(jen.Id(out).Dot("Raw").Op("=").String().Call(jen.Id(ev).Dot("Data"))))
		body = append(body, jen.Switch(jen.Id(ev).Dot("Type")).Block(cases...))
	case s.item != nil:
		fields = append(fields, doc("Data is the event's data, decoded.").Id("Data").Add(e.typ(s.item)))
		body = append(body, decodeInto(jen.Op("&").Id(out).Dot("Data")))
	default:
		fields = append(fields, doc("Data is the event's data.").Id("Data").String())
		body = append(body, jen.Id(out).Dot("Data").Op("=").String().Call(jen.Id(ev).Dot("Data")))
	}
	body = append(body, jen.Return(jen.Id(out), jen.Nil()))
	text := fmt.Sprintf("%s is one event of the %s stream.", s.itemType, o.goName)
	if len(kinds) > 0 {
		text += fmt.Sprintf(" The events %s are decoded\ninto their fields; any other is kept in Raw.", strings.Join(kinds, ", "))
	}
	f.Add(doc(text))
	f.Type().Id(s.itemType).Struct(fields...)
	f.Line()
	f.Add(doc(fmt.Sprintf("%s turns an event of the %s stream into a %s.", e.sseDecodeName(o), o.goName, s.itemType)))
	f.Func().Id(e.sseDecodeName(o)).Params(jen.Id(ev).Add(e.rt("SSEEvent"))).Params(jen.Id(s.itemType), jen.Error()).Block(body...)
	f.Line()
}
