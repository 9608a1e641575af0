package generator

import (
	"fmt"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/dave/jennifer/jen"
)

// bodyResults returns the results of a method that returns the body of its
// one success response alone, and the zero value returned with an error.
func (e *emitter) bodyResults(o *operation) ([]jen.Code, jen.Code) {
	switch o.result.kind {
	case bodyNone:
		return []jen.Code{jen.Error()}, nil
	case bodyText:
		return []jen.Code{jen.String(), jen.Error()}, jen.Lit("")
	case bodyBinary:
		return []jen.Code{jen.Index().Byte(), jen.Error()}, jen.Nil()
	}
	if byValue(o.result.typ) {
		return []jen.Code{e.typ(o.result.typ), jen.Error()}, jen.Nil()
	}
	return []jen.Code{jen.Op("*").Add(e.typ(o.result.typ)), jen.Error()}, jen.Nil()
}

// bodyFieldType is the type of the result struct field holding a body.
func (e *emitter) bodyFieldType(s *success) *jen.Statement {
	switch s.kind {
	case bodyText:
		return jen.String()
	case bodyBinary:
		return jen.Index().Byte()
	}
	if byValue(s.typ) {
		return e.typ(s.typ)
	}
	return jen.Op("*").Add(e.typ(s.typ))
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
func (e *emitter) resultStruct(f *jen.File, o *operation) {
	var statuses []string
	for _, s := range o.successes {
		statuses = append(statuses, statusWords(s.status))
	}
	fields := []jen.Code{doc(fmt.Sprintf("StatusCode is the status of the response (documented: %s).", strings.Join(statuses, ", "))).Id("StatusCode").Int()}
	seen := map[string]bool{}
	for _, s := range o.successes {
		if s.field == "" || seen[s.field] {
			continue
		}
		seen[s.field] = true
		var with []string
		for _, t := range o.successes {
			if t.field == s.field {
				with = append(with, statusWords(t.status))
			}
		}
		text := fmt.Sprintf("%s is the body of a %s response; ", s.field, strings.Join(with, " or "))
		switch {
		case s.kind == bodyText:
			text += "empty for another status."
		case s.kind == bodyBinary || byValue(s.typ):
			text += "nil for another status."
		default:
			text += "nil for another status."
		}
		fields = append(fields, doc(text).Id(s.field).Add(e.bodyFieldType(s)))
	}
	for _, h := range o.headers {
		var in, req []string
		for _, s := range o.successes {
			for _, sh := range s.headers {
				if sh.h == h {
					in = append(in, statusWords(s.status))
					if sh.required {
						req = append(req, statusWords(s.status))
					}
				}
			}
		}
		text := fmt.Sprintf("%s is the %s header of a %s response", h.goName, h.name, strings.Join(in, " or "))
		switch {
		case h.always:
			text += " (required)."
		case len(req) > 0:
			text += fmt.Sprintf(" (required on %s; unset when absent).", strings.Join(req, ", "))
		default:
			text += " (unset when absent)."
		}
		t := e.typ(h.typ)
		if !h.always {
			t = e.rt("Opt").Types(t)
		}
		fields = append(fields, doc(text, h.doc).Id(h.goName).Add(t))
	}
	f.Add(doc(fmt.Sprintf("%s is the success response of %s: which status came, its body and\nits documented headers. A required header the response lacks fails the call\nwith a *runtime.ProtocolError.", o.resultType, o.goName)))
	f.Type().Id(o.resultType).Struct(fields...)
	f.Line()
}

// responseFunc renders the Request.Response function of o, which fills out
// (the result struct) from the status and headers and says where the body
// goes.
func (e *emitter) responseFunc(o *operation, ns *naming.Namespace, out string) jen.Code {
	status, h := ns.Unexported("status"), ns.Unexported("header")
	v, ok, herr := ns.Unexported("v"), ns.Unexported("ok"), ns.Unexported("herr")
	into := func(s *success) []jen.Code {
		switch {
		case s.field == "":
			return []jen.Code{jen.Return(jen.Nil(), jen.Nil())}
		case s.kind == bodyJSON && !byValue(s.typ):
			return []jen.Code{
				jen.Id(out).Dot(s.field).Op("=").New(e.typ(s.typ)),
				jen.Return(jen.Id(out).Dot(s.field), jen.Nil()),
			}
		}
		return []jen.Code{jen.Return(jen.Op("&").Id(out).Dot(s.field), jen.Nil())}
	}
	caseBody := func(s *success) []jen.Code {
		var stmts []jen.Code
		for _, sh := range s.headers {
			dst := jen.Id(out).Dot(sh.h.goName)
			val := jen.Id(v)
			if !sh.h.always {
				val = e.rt("Some").Call(jen.Id(v))
			}
			parse := e.headerParse(sh.h.typ)
			if sh.required {
				stmts = append(stmts, jen.If(
					jen.List(jen.Id(v), jen.Id(herr)).Op(":=").Add(e.rt("RequiredHeader")).Call(jen.Id(h), jen.Lit(sh.h.name), parse),
					jen.Id(herr).Op("!=").Nil(),
				).Block(jen.Return(jen.Nil(), jen.Id(herr))).Else().Block(jen.Add(dst).Op("=").Add(val)))
				continue
			}
			if !sh.h.always {
				stmts = append(stmts, jen.If(
					jen.Id(herr).Op(":=").Add(e.rt("OptHeader")).Call(jen.Id(h), jen.Lit(sh.h.name), parse, jen.Op("&").Add(dst)),
					jen.Id(herr).Op("!=").Nil(),
				).Block(jen.Return(jen.Nil(), jen.Id(herr))))
				continue
			}
			stmts = append(stmts, jen.If(
				jen.List(jen.Id(v), jen.Id(ok), jen.Id(herr)).Op(":=").Add(e.rt("ResponseHeader")).Call(jen.Id(h), jen.Lit(sh.h.name), parse),
				jen.Id(herr).Op("!=").Nil(),
			).Block(jen.Return(jen.Nil(), jen.Id(herr))).Else().If(jen.Id(ok)).Block(jen.Add(dst).Op("=").Add(val)))
		}
		return append(stmts, into(s)...)
	}
	var cases []jen.Code
	var class *success
	for _, s := range o.successes {
		if strings.EqualFold(s.status, "2XX") {
			class = s
			continue
		}
		cases = append(cases, jen.Case(jen.Lit(atoi(s.status))).Block(caseBody(s)...))
	}
	var def []jen.Code
	switch {
	case class != nil:
		def = caseBody(class)
	default:
		// An undocumented 2xx status: its body goes where the one body
		// shape of the operation goes, if it has one.
		var shared *success
		for _, s := range o.successes {
			if s.field == "Body" {
				shared = s
			}
		}
		def = caseBody(&success{field: fieldOf(shared), kind: kindOf(shared), typ: typOf(shared)})
	}
	stmts := []jen.Code{jen.Id(out).Dot("StatusCode").Op("=").Id(status)}
	if len(cases) > 0 {
		stmts = append(stmts, jen.Switch(jen.Id(status)).Block(cases...))
	}
	stmts = append(stmts, def...)
	return jen.Func().Params(jen.Id(status).Int(), jen.Id(h).Qual("net/http", "Header")).Params(jen.Any(), jen.Error()).Block(stmts...)
}

func fieldOf(s *success) string {
	if s == nil {
		return ""
	}
	return s.field
}

func kindOf(s *success) bodyKind {
	if s == nil {
		return bodyNone
	}
	return s.kind
}

func typOf(s *success) *typeRef {
	if s == nil {
		return nil
	}
	return s.typ
}

// headerParse renders the parser of a header of type t (headerParsable).
func (e *emitter) headerParse(t *typeRef) jen.Code {
	switch t.kind {
	case tBasic:
		return e.rt("Parse" + naming.ExportedName(t.name))
	case tQual:
		return e.rt("ParseTime")
	case tSlice:
		return e.rt("ParseList").Call(e.headerParse(t.elem))
	case tNamed:
		switch t.named.kind {
		case ntEnum:
			return jen.Func().Params(jen.Id("s").String()).Params(jen.Id(t.name), jen.Error()).Block(jen.Return(jen.Id(t.name).Call(jen.Id("s")), jen.Nil()))
		case ntAlias:
			return e.headerParse(t.named.under)
		case ntDef:
			return jen.Func().Params(jen.Id("s").String()).Params(jen.Id(t.name), jen.Error()).Block(
				jen.List(jen.Id("v"), jen.Err()).Op(":=").Add(e.headerParse(t.named.under)).Call(jen.Id("s")),
				jen.Return(jen.Id(t.name).Call(jen.Id("v")), jen.Err()))
		}
	}
	return e.rt("ParseString")
}
