package generator

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/dave/jennifer/jen"
	"github.com/getkin/kin-openapi/openapi3"
)

// Pagination: an operation whose x-pagination extension says how it pages
// gets a second method, <Method>All, that ranges over every item of every
// page as an iter.Seq2, fetching pages as the caller goes. Two styles:
//
//	x-pagination:            # offset and limit
//	  items: events          # member of the response holding a page's items
//	  offset: offset         # query parameter of the first item's position
//	  limit: limit           # query parameter of the page size
//	  hasMore: has_more      # optional: member saying whether more follow
//
//	x-pagination:            # cursor or page token
//	  items: data
//	  cursor: page_token     # query parameter carrying the cursor
//	  next: next_page_token  # member holding the next cursor ("" or absent: done)
//	  limit: page_size       # optional: query parameter of the page size
//
// items may be omitted when the response body is the list itself. The
// runtime's paginators guard against a server that breaks the contract: one
// that ignores the limit, repeats a page (ignores the offset) or hands back
// the same cursor is a *runtime.ProtocolError, never an endless loop.

// paginationSpec is the x-pagination extension as written.
type paginationSpec struct {
	Items   string `json:"items"`
	Offset  string `json:"offset"`
	Limit   string `json:"limit"`
	Cursor  string `json:"cursor"`
	Next    string `json:"next"`
	HasMore string `json:"hasMore"`
}

// buildPaginations reads the x-pagination extension of every operation,
// once the types of the results are filled.
func (g *gen) buildPaginations() {
	for _, o := range g.ops {
		if ext := g.pageExt[o]; ext != nil {
			g.buildPagination(o, ext)
		}
	}
}

// buildPagination reads raw, the x-pagination extension of o, into o. What
// does not fit the operation is a warning, and the operation gets no
// iterator.
func (g *gen) buildPagination(o *ir.Operation, raw any) {
	op := struct{ Origin *openapi3.Origin }{g.opOrigin[o]}
	var spec paginationSpec
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &spec)
	}
	if err != nil {
		g.warn(op.Origin, "x-pagination of %s is not an object of names: %v", o.GoName, err)
		return
	}
	fail := func(format string, args ...any) {
		g.warn(op.Origin, "x-pagination of %s: "+format+"; no iterator is generated", append([]any{o.GoName}, args...)...)
	}
	if o.Result.Kind != ir.BodyJSON || o.Result.Type == nil || o.Stream != nil {
		fail("the operation has no JSON result")
		return
	}
	if o.ResultType != "" {
		// A result struct (headers, several statuses): the body must be
		// one field of it.
		for _, sc := range o.Successes {
			if sc.Kind == ir.BodyJSON && sc.Type == o.Result.Type {
				o.PageBody = sc.Field
			}
		}
		if o.PageBody == "" {
			fail("the operation's success responses differ in body")
			return
		}
	}
	query := func(name string) *ir.Param {
		for _, p := range o.Query {
			if p.Name == name {
				return p
			}
		}
		return nil
	}
	p := &ir.Pagination{}
	if spec.Limit != "" {
		if p.Limit = query(spec.Limit); p.Limit == nil || !isIntType(p.Limit.Type) {
			fail("limit %q is not an integer query parameter", spec.Limit)
			return
		}
	}
	switch {
	case spec.Offset != "" && spec.Cursor == "":
		if p.Offset = query(spec.Offset); p.Offset == nil || !isIntType(p.Offset.Type) {
			fail("offset %q is not an integer query parameter", spec.Offset)
			return
		}
		if p.Limit == nil {
			fail("offset paging needs a limit parameter")
			return
		}
	case spec.Cursor != "" && spec.Offset == "":
		if p.Cursor = query(spec.Cursor); p.Cursor == nil || unwrapColl(p.Cursor.Type).Kind != ir.Basic || unwrapColl(p.Cursor.Type).Name != "string" {
			fail("cursor %q is not a string query parameter", spec.Cursor)
			return
		}
	default:
		fail("give either offset or cursor")
		return
	}
	member := func(name string) *ir.Field { return g.resultMember(o, name) }
	list := o.Result.Type
	if spec.Items != "" {
		if p.Items = member(spec.Items); p.Items == nil {
			fail("the result has no member %q", spec.Items)
			return
		}
		list = p.Items.Type
	}
	if l := unwrapColl(list); l.Kind != ir.Slice || l.Elem.Kind == ir.Basic && l.Elem.Name == "byte" {
		fail("the items are not a list")
		return
	} else {
		p.Item = l.Elem
	}
	if p.Cursor != nil {
		if p.Next = member(spec.Next); p.Next == nil || unwrapColl(p.Next.Type).Kind != ir.Basic || unwrapColl(p.Next.Type).Name != "string" {
			fail("next %q is not a string member of the result", spec.Next)
			return
		}
	}
	if spec.HasMore != "" {
		if p.HasMore = member(spec.HasMore); p.HasMore == nil || unwrapColl(p.HasMore.Type).Kind != ir.Basic || unwrapColl(p.HasMore.Type).Name != "bool" {
			fail("hasMore %q is not a boolean member of the result", spec.HasMore)
			return
		}
	}
	o.Pagination = p
	o.AllName = g.ns.Exported(o.GoName + "All")
}

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

// resultMember returns the field of o's result for the JSON member name,
// or nil. A result whose type lives in a mapped package is described from
// its schema, named as that package's generator names it.
func (g *gen) resultMember(o *ir.Operation, name string) *ir.Field {
	n := unwrapColl(o.Result.Type)
	if n.Kind == ir.Named && n.Named.Kind == ir.Struct {
		for _, f := range n.Named.Fields {
			if f.JSON == name && !f.Ptr {
				return f
			}
		}
		return nil
	}
	if n.Kind != ir.Qual || g.resultSchema[o] == nil || g.resultSchema[o].Value == nil {
		return nil
	}
	props := make(map[string]*openapi3.SchemaRef)
	var order []string
	req := make(map[string]bool)
	g.collectProps(g.resultSchema[o].Value, props, &order, req, 0)
	p := props[name]
	if p == nil || p.Value == nil {
		return nil
	}
	if cat, _ := classify(p.Value); p.Ref == "" && (cat == catStruct || cat == catEnum || cat == catSum) {
		return nil // an inline type of the other package: not named here
	}
	if p.Ref == "" && p.Value.Items != nil && p.Value.Items.Ref == "" {
		if cat, _ := classify(p.Value.Items.Value); cat == catStruct || cat == catEnum || cat == catSum {
			return nil
		}
	}
	// References inside the mapped file are written relative to it.
	file, _, _ := strings.Cut(g.resultSchema[o].Ref, "#")
	return &ir.Field{Name: fieldNames(props, order)[name], JSON: name, Required: req[name], Nullable: nullable(p), Type: g.resolve(inFile(p, file), "")}
}

// inFile returns r, a schema of the file file, with its references (and
// those of its items) written as seen from the root document.
func inFile(r *openapi3.SchemaRef, file string) *openapi3.SchemaRef {
	if r == nil || file == "" {
		return r
	}
	c := *r
	if strings.HasPrefix(c.Ref, "#") {
		c.Ref = file + c.Ref
	}
	if c.Ref == "" && c.Value != nil && c.Value.Items != nil {
		v := *c.Value
		v.Items = inFile(v.Items, file)
		c.Value = &v
	}
	return &c
}
