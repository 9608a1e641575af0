package emit

import (
	"fmt"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/dave/jennifer/jen"
)

// bodyResults returns the results of a method that returns the body of its
// one success response alone, and the zero value returned with an error.
func (e *emitter) bodyResults(o *ir.Operation) ([]jen.Code, jen.Code) {
	switch o.Result.Kind {
	case ir.BodyNone:
		return []jen.Code{jen.Error()}, nil
	case ir.BodyText:
		return []jen.Code{jen.String(), jen.Error()}, jen.Lit("")
	case ir.BodyBinary:
		return []jen.Code{jen.Index().Byte(), jen.Error()}, jen.Nil()
	}
	if byValue(o.Result.Type) {
		return []jen.Code{e.typ(o.Result.Type), jen.Error()}, jen.Nil()
	}
	return []jen.Code{jen.Op("*").Add(e.typ(o.Result.Type)), jen.Error()}, jen.Nil()
}

// bodyFieldType is the type of the result struct field holding a body.
func (e *emitter) bodyFieldType(s *ir.Success) *jen.Statement {
	switch s.Kind {
	case ir.BodyText:
		return jen.String()
	case ir.BodyBinary:
		return jen.Index().Byte()
	}
	if byValue(s.Type) {
		return e.typ(s.Type)
	}
	return jen.Op("*").Add(e.typ(s.Type))
}

// statusWords names a documented status for docs.
func statusWords(st string) string {
	if strings.EqualFold(st, "2XX") {
		return "any other 2xx"
	}
	return st
}

// resultStruct renders the result struct of o: the status that came, the
// body of each success response and the documented headers.
func (e *emitter) resultStruct(f *jen.File, o *ir.Operation) {
	var statuses []string
	for _, s := range o.Successes {
		statuses = append(statuses, statusWords(s.Status))
	}
	fields := []jen.Code{doc(fmt.Sprintf("StatusCode is the status of the response (documented: %s).", strings.Join(statuses, ", "))).Id("StatusCode").Int()}
	seen := map[string]bool{}
	for _, s := range o.Successes {
		if s.Field == "" || seen[s.Field] {
			continue
		}
		seen[s.Field] = true
		var with []string
		for _, t := range o.Successes {
			if t.Field == s.Field {
				with = append(with, statusWords(t.Status))
			}
		}
		text := fmt.Sprintf("%s is the body of a %s response; ", s.Field, strings.Join(with, " or "))
		switch {
		case s.Kind == ir.BodyText:
			text += "empty for another status."
		case s.Kind == ir.BodyBinary || byValue(s.Type):
			text += "nil for another status."
		default:
			text += "nil for another status."
		}
		fields = append(fields, doc(text).Id(s.Field).Add(e.bodyFieldType(s)))
	}
	for _, h := range o.Headers {
		var in, req []string
		for _, s := range o.Successes {
			for _, sh := range s.Headers {
				if sh.Header == h {
					in = append(in, statusWords(s.Status))
					if sh.Required {
						req = append(req, statusWords(s.Status))
					}
				}
			}
		}
		text := fmt.Sprintf("%s is the %s header of a %s response", h.GoName, h.Name, strings.Join(in, " or "))
		switch {
		case h.Always:
			text += " (required)."
		case len(req) > 0:
			text += fmt.Sprintf(" (required on %s; unset when absent).", strings.Join(req, ", "))
		default:
			text += " (unset when absent)."
		}
		t := e.typ(h.Type)
		if !h.Always {
			t = e.rt("Opt").Types(t)
		}
		fields = append(fields, doc(text, h.Doc).Id(h.GoName).Add(t))
	}
	f.Add(doc(fmt.Sprintf("%s is the success response of %s: which status came, its body and\nits documented headers. A required header the response lacks fails the call\nwith a *runtime.ProtocolError.", o.ResultType, o.GoName)))
	f.Type().Id(o.ResultType).Struct(fields...)
	f.Line()
}

// responseFunc renders the Request.Response function of o, which fills out
// (the result struct) from the status and headers and says where the body
// goes.
func (e *emitter) responseFunc(o *ir.Operation, ns *naming.Namespace, out string) jen.Code {
	status, h := ns.Unexported("status"), ns.Unexported("header")
	v, ok, herr := ns.Unexported("v"), ns.Unexported("ok"), ns.Unexported("herr")
	into := func(s *ir.Success) []jen.Code {
		switch {
		case s.Field == "":
			return []jen.Code{jen.Return(jen.Nil(), jen.Nil())}
		case s.Kind == ir.BodyJSON && !byValue(s.Type):
			return []jen.Code{
				jen.Id(out).Dot(s.Field).Op("=").New(e.typ(s.Type)),
				jen.Return(jen.Id(out).Dot(s.Field), jen.Nil()),
			}
		}
		return []jen.Code{jen.Return(jen.Op("&").Id(out).Dot(s.Field), jen.Nil())}
	}
	caseBody := func(s *ir.Success) []jen.Code {
		var stmts []jen.Code
		for _, sh := range s.Headers {
			dst := jen.Id(out).Dot(sh.Header.GoName)
			val := jen.Id(v)
			if !sh.Header.Always {
				val = e.rt("Some").Call(jen.Id(v))
			}
			parse := e.headerParse(sh.Header.Type)
			if sh.Required {
				stmts = append(stmts, jen.If(
					jen.List(jen.Id(v), jen.Id(herr)).Op(":=").Add(e.rt("RequiredHeader")).Call(jen.Id(h), jen.Lit(sh.Header.Name), parse),
					jen.Id(herr).Op("!=").Nil(),
				).Block(jen.Return(jen.Nil(), jen.Id(herr))).Else().Block(jen.Add(dst).Op("=").Add(val)))
				continue
			}
			if !sh.Header.Always {
				stmts = append(stmts, jen.If(
					jen.Id(herr).Op(":=").Add(e.rt("OptHeader")).Call(jen.Id(h), jen.Lit(sh.Header.Name), parse, jen.Op("&").Add(dst)),
					jen.Id(herr).Op("!=").Nil(),
				).Block(jen.Return(jen.Nil(), jen.Id(herr))))
				continue
			}
			stmts = append(stmts, jen.If(
				jen.List(jen.Id(v), jen.Id(ok), jen.Id(herr)).Op(":=").Add(e.rt("ResponseHeader")).Call(jen.Id(h), jen.Lit(sh.Header.Name), parse),
				jen.Id(herr).Op("!=").Nil(),
			).Block(jen.Return(jen.Nil(), jen.Id(herr))).Else().If(jen.Id(ok)).Block(jen.Add(dst).Op("=").Add(val)))
		}
		return append(stmts, into(s)...)
	}
	var cases []jen.Code
	var class *ir.Success
	for _, s := range o.Successes {
		if strings.EqualFold(s.Status, "2XX") {
			class = s
			continue
		}
		cases = append(cases, jen.Case(jen.Lit(ir.StatusCode(s.Status))).Block(caseBody(s)...))
	}
	var def []jen.Code
	switch {
	case class != nil:
		def = caseBody(class)
	default:
		// An undocumented 2xx status: its body goes where the one body
		// shape of the operation goes, if it has one.
		var shared *ir.Success
		for _, s := range o.Successes {
			if s.Field == "Body" {
				shared = s
			}
		}
		def = caseBody(&ir.Success{Field: fieldOf(shared), Kind: kindOf(shared), Type: typOf(shared)})
	}
	stmts := []jen.Code{jen.Id(out).Dot("StatusCode").Op("=").Id(status)}
	if len(cases) > 0 {
		stmts = append(stmts, jen.Switch(jen.Id(status)).Block(cases...))
	}
	stmts = append(stmts, def...)
	return jen.Func().Params(jen.Id(status).Int(), jen.Id(h).Qual("net/http", "Header")).Params(jen.Any(), jen.Error()).Block(stmts...)
}

func fieldOf(s *ir.Success) string {
	if s == nil {
		return ""
	}
	return s.Field
}

func kindOf(s *ir.Success) ir.BodyKind {
	if s == nil {
		return ir.BodyNone
	}
	return s.Kind
}

func typOf(s *ir.Success) *ir.TypeRef {
	if s == nil {
		return nil
	}
	return s.Type
}

// headerParse renders the parser of a header of type t (headerParsable).
func (e *emitter) headerParse(t *ir.TypeRef) jen.Code {
	switch t.Kind {
	case ir.Basic:
		return e.rt("Parse" + naming.ExportedName(t.Name))
	case ir.Qual:
		return e.rt("ParseTime")
	case ir.Slice:
		return e.rt("ParseList").Call(e.headerParse(t.Elem))
	case ir.Named:
		switch t.Named.Kind {
		case ir.Enum:
			return jen.Func().Params(jen.Id("s").String()).Params(jen.Id(t.Name), jen.Error()).Block(jen.Return(jen.Id(t.Name).Call(jen.Id("s")), jen.Nil()))
		case ir.Alias:
			return e.headerParse(t.Named.Under)
		case ir.Def:
			return jen.Func().Params(jen.Id("s").String()).Params(jen.Id(t.Name), jen.Error()).Block(
				jen.List(jen.Id("v"), jen.Err()).Op(":=").Add(e.headerParse(t.Named.Under)).Call(jen.Id("s")),
				jen.Return(jen.Id(t.Name).Call(jen.Id("v")), jen.Err()))
		}
	}
	return e.rt("ParseString")
}
