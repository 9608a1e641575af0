package emit

import (
	"fmt"
	"slices"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/dave/jennifer/jen"
)

// paginator renders the <Method>All iterator of o.
func (e *emitter) paginator(f *jen.File, o *ir.Operation) {
	p := o.Pagination
	if p == nil {
		return
	}
	ns := e.api.Names.Child()
	recv, ctx, params, opts := ns.Unexported("c"), ns.Unexported("ctx"), ns.Unexported("params"), ns.Unexported("opts")
	res, cur := ns.Unexported("res"), ns.Unexported("cursor")
	ns.Reserve("err")
	item := e.typ(p.Item)
	page := e.rt("Page").Types(item)

	// get reads a member of the result (or a value of params) that may be
	// an Opt.
	get := func(base jen.Code, fl *ir.Field) *jen.Statement {
		v := jen.Add(base).Dot(fl.Name)
		if !fl.Required || fl.Nullable {
			return v.Dot("Value")
		}
		return v
	}
	// body is the decoded body: the result itself, or the field of the
	// result struct that holds it.
	body := jen.Id(res)
	var pre []jen.Code
	if o.ResultType != "" {
		body = jen.Id(res).Dot(o.PageBody)
		if !byValue(o.Result.Type) {
			pre = append(pre, jen.If(jen.Add(body).Op("==").Nil()).Block(jen.Return(page.Clone().Values(),
				jen.Op("&").Add(e.rt("ProtocolError")).Values(jen.Dict{jen.Id("OperationID"): jen.Lit(opLabel(o)), jen.Id("StatusCode"): jen.Id(res).Dot("StatusCode"), jen.Id("Reason"): jen.Lit("a page without a body")}))))
		}
	}
	// pageOf builds the runtime.Page of the body.
	pageOf := func() []jen.Code {
		items := body.Clone()
		if p.Items != nil {
			items = get(body, p.Items)
		} else if !byValue(o.Result.Type) {
			items = jen.Op("*").Add(body)
		}
		dict := jen.Dict{jen.Id("Items"): items}
		if p.Next != nil {
			dict[jen.Id("Next")] = e.asString(get(body, p.Next), p.Next.Type)
		}
		if p.HasMore != nil {
			hm := jen.Add(body).Dot(p.HasMore.Name)
			if p.HasMore.Required && !p.HasMore.Nullable {
				dict[jen.Id("HasMore")] = e.rt("Some").Call(jen.Bool().Call(hm))
			} else {
				dict[jen.Id("HasMore")] = e.rt("Opt").Types(jen.Bool()).Values(jen.Dict{jen.Id("Value"): jen.Bool().Call(hm.Clone().Dot("Value")), jen.Id("Set"): hm.Clone().Dot("Set")})
			}
		}
		return append(slices.Clone(pre), jen.Return(page.Clone().Values(dict), jen.Nil()))
	}
	setParam := func(prm *ir.Param, v jen.Code) jen.Code {
		lv := jen.Id(params).Dot(prm.GoName)
		val := jen.Add(e.typ(prm.Type)).Call(v)
		if !prm.Required {
			return jen.Add(lv).Op("=").Add(e.rt("Some")).Call(val)
		}
		return jen.Add(lv).Op("=").Add(val)
	}
	readParam := func(prm *ir.Param) jen.Code {
		if !prm.Required {
			return jen.Int64().Call(jen.Id(params).Dot(prm.GoName).Dot("Value"))
		}
		return jen.Int64().Call(jen.Id(params).Dot(prm.GoName))
	}
	sig := []jen.Code{jen.Id(ctx).Qual("context", "Context")}
	args := []jen.Code{jen.Id(ctx)}
	for _, pp := range o.PathParams {
		a := ns.Unexported(pp.GoName)
		sig = append(sig, jen.Id(a).Add(e.typ(pp.Type)))
		args = append(args, jen.Id(a))
	}
	sig = append(sig, jen.Id(params).Id(o.ParamsType), jen.Id(opts).Op("...").Qual(e.cfg.RuntimeImport, "Option"))
	args = append(args, jen.Id(params), jen.Id(opts).Op("..."))
	call := jen.List(jen.Id(res), jen.Err()).Op(":=").Id(recv).Dot(o.GoName).Call(args...)
	fetchErr := jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(page.Clone().Values(), jen.Err()))

	ifSet := func(prm *ir.Param, then jen.Code) jen.Code {
		if prm.Required {
			return then
		}
		return jen.If(jen.Id(params).Dot(prm.GoName).Dot("Set")).Block(then)
	}
	var stmts []jen.Code
	var text string
	if p.Offset != nil {
		off, lim := ns.Unexported("offset"), ns.Unexported("limit")
		fetch := jen.Func().Params(jen.Id(ctx).Qual("context", "Context"), jen.Id(off).Int64(), jen.Id(lim).Int64()).Params(page.Clone(), jen.Error()).Block(
			append([]jen.Code{setParam(p.Offset, jen.Id(off)), jen.If(jen.Id(lim).Op(">").Lit(0)).Block(setParam(p.Limit, jen.Id(lim))), call, fetchErr}, pageOf()...)...)
		start, size := ns.Unexported("start"), ns.Unexported("size")
		stmts = []jen.Code{
			jen.Var().Id(start).Int64(),
			ifSet(p.Offset, jen.Id(start).Op("=").Add(readParam(p.Offset))),
			jen.Var().Id(size).Int64(),
			ifSet(p.Limit, jen.Id(size).Op("=").Add(readParam(p.Limit))),
			jen.Return(e.rt("PaginateOffset").Call(jen.Id(ctx), jen.Lit(opLabel(o)), jen.Id(start), jen.Id(size), jen.Lit(0), fetch)),
		}
		text = fmt.Sprintf("%s ranges over the items of every page of %s, from params' %s on, %s at a time (the server's page size when unset),\nfetching each page as the loop reaches it. A server that ignores %s or %s\nends the loop with a *runtime.ProtocolError.", o.AllName, o.GoName, p.Offset.Name, p.Limit.Name, p.Limit.Name, p.Offset.Name)
	} else {
		fetch := jen.Func().Params(jen.Id(ctx).Qual("context", "Context"), jen.Id(cur).String()).Params(page.Clone(), jen.Error()).Block(
			append([]jen.Code{
				jen.If(jen.Id(cur).Op("!=").Lit("")).Block(setParam(p.Cursor, jen.Id(cur))),
				call, fetchErr}, pageOf()...)...)
		stmts = []jen.Code{jen.Return(e.rt("PaginateCursor").Call(jen.Id(ctx), jen.Lit(opLabel(o)), fetch))}
		text = fmt.Sprintf("%s ranges over the items of every page of %s, following the %q\ncursor from page to page, fetching each page as the loop reaches it. A server\nthat hands back the same cursor twice ends the loop with a *runtime.ProtocolError.", o.AllName, o.GoName, p.Next.JSON)
	}
	f.Add(doc(text + " Stopping the loop early fetches no more pages."))
	f.Func().Params(jen.Id(recv).Op("*").Id("Client")).Id(o.AllName).Params(sig...).Qual("iter", "Seq2").Types(item, jen.Error()).Block(stmts...)
	f.Line()
}

// asString converts v, of a string type (a defined one, say), to string.
func (e *emitter) asString(v jen.Code, t *ir.TypeRef) jen.Code {
	if t.Kind == ir.Basic {
		return v
	}
	return jen.String().Call(v)
}
