package generator

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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

// pagination is the paging contract of one operation.
type pagination struct {
	items   *field // member of the result holding the items; nil: the body is the list
	item    *typeRef
	offset  *param // offset style
	limit   *param
	cursor  *param // cursor style
	next    *field
	hasMore *field
}

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
func (g *gen) buildPagination(o *operation, raw any) {
	op := struct{ Origin *openapi3.Origin }{g.opOrigin[o]}
	var spec paginationSpec
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &spec)
	}
	if err != nil {
		g.warn(op.Origin, "x-pagination of %s is not an object of names: %v", o.goName, err)
		return
	}
	fail := func(format string, args ...any) {
		g.warn(op.Origin, "x-pagination of %s: "+format+"; no iterator is generated", append([]any{o.goName}, args...)...)
	}
	if o.result.kind != bodyJSON || o.result.typ == nil || o.stream != nil {
		fail("the operation has no JSON result")
		return
	}
	if o.resultType != "" {
		// A result struct (headers, several statuses): the body must be
		// one field of it.
		for _, sc := range o.successes {
			if sc.kind == bodyJSON && sc.typ == o.result.typ {
				o.pageBody = sc.field
			}
		}
		if o.pageBody == "" {
			fail("the operation's success responses differ in body")
			return
		}
	}
	query := func(name string) *param {
		for _, p := range o.query {
			if p.name == name {
				return p
			}
		}
		return nil
	}
	p := &pagination{}
	if spec.Limit != "" {
		if p.limit = query(spec.Limit); p.limit == nil || !isIntType(p.limit.typ) {
			fail("limit %q is not an integer query parameter", spec.Limit)
			return
		}
	}
	switch {
	case spec.Offset != "" && spec.Cursor == "":
		if p.offset = query(spec.Offset); p.offset == nil || !isIntType(p.offset.typ) {
			fail("offset %q is not an integer query parameter", spec.Offset)
			return
		}
		if p.limit == nil {
			fail("offset paging needs a limit parameter")
			return
		}
	case spec.Cursor != "" && spec.Offset == "":
		if p.cursor = query(spec.Cursor); p.cursor == nil || unwrapColl(p.cursor.typ).kind != tBasic || unwrapColl(p.cursor.typ).name != "string" {
			fail("cursor %q is not a string query parameter", spec.Cursor)
			return
		}
	default:
		fail("give either offset or cursor")
		return
	}
	member := func(name string) *field { return g.resultMember(o, name) }
	list := o.result.typ
	if spec.Items != "" {
		if p.items = member(spec.Items); p.items == nil {
			fail("the result has no member %q", spec.Items)
			return
		}
		list = p.items.typ
	}
	if l := unwrapColl(list); l.kind != tSlice || l.elem.kind == tBasic && l.elem.name == "byte" {
		fail("the items are not a list")
		return
	} else {
		p.item = l.elem
	}
	if p.cursor != nil {
		if p.next = member(spec.Next); p.next == nil || unwrapColl(p.next.typ).kind != tBasic || unwrapColl(p.next.typ).name != "string" {
			fail("next %q is not a string member of the result", spec.Next)
			return
		}
	}
	if spec.HasMore != "" {
		if p.hasMore = member(spec.HasMore); p.hasMore == nil || unwrapColl(p.hasMore.typ).kind != tBasic || unwrapColl(p.hasMore.typ).name != "bool" {
			fail("hasMore %q is not a boolean member of the result", spec.HasMore)
			return
		}
	}
	o.paginate = p
	o.allName = g.ns.Exported(o.goName + "All")
}

// paginator renders the <Method>All iterator of o.
func (e *emitter) paginator(f *jen.File, o *operation) {
	p := o.paginate
	if p == nil {
		return
	}
	ns := e.g.ns.Child()
	recv, ctx, params, opts := ns.Unexported("c"), ns.Unexported("ctx"), ns.Unexported("params"), ns.Unexported("opts")
	res, cur := ns.Unexported("res"), ns.Unexported("cursor")
	ns.Reserve("err")
	item := e.typ(p.item)
	page := e.rt("Page").Types(item)

	// get reads a member of the result (or a value of params) that may be
	// an Opt.
	get := func(base jen.Code, fl *field) *jen.Statement {
		v := jen.Add(base).Dot(fl.name)
		if !fl.required || fl.nullable {
			return v.Dot("Value")
		}
		return v
	}
	// body is the decoded body: the result itself, or the field of the
	// result struct that holds it.
	body := jen.Id(res)
	var pre []jen.Code
	if o.resultType != "" {
		body = jen.Id(res).Dot(o.pageBody)
		if !byValue(o.result.typ) {
			pre = append(pre, jen.If(jen.Add(body).Op("==").Nil()).Block(jen.Return(page.Clone().Values(),
				jen.Op("&").Add(e.rt("ProtocolError")).Values(jen.Dict{jen.Id("OperationID"): jen.Lit(opLabel(o)), jen.Id("StatusCode"): jen.Id(res).Dot("StatusCode"), jen.Id("Reason"): jen.Lit("a page without a body")}))))
		}
	}
	// pageOf builds the runtime.Page of the body.
	pageOf := func() []jen.Code {
		items := body.Clone()
		if p.items != nil {
			items = get(body, p.items)
		} else if !byValue(o.result.typ) {
			items = jen.Op("*").Add(body)
		}
		dict := jen.Dict{jen.Id("Items"): items}
		if p.next != nil {
			dict[jen.Id("Next")] = e.asString(get(body, p.next), p.next.typ)
		}
		if p.hasMore != nil {
			hm := jen.Add(body).Dot(p.hasMore.name)
			if p.hasMore.required && !p.hasMore.nullable {
				dict[jen.Id("HasMore")] = e.rt("Some").Call(jen.Bool().Call(hm))
			} else {
				dict[jen.Id("HasMore")] = e.rt("Opt").Types(jen.Bool()).Values(jen.Dict{jen.Id("Value"): jen.Bool().Call(hm.Clone().Dot("Value")), jen.Id("Set"): hm.Clone().Dot("Set")})
			}
		}
		return append(slices.Clone(pre), jen.Return(page.Clone().Values(dict), jen.Nil()))
	}
	setParam := func(prm *param, v jen.Code) jen.Code {
		lv := jen.Id(params).Dot(prm.goName)
		val := jen.Add(e.typ(prm.typ)).Call(v)
		if !prm.required {
			return jen.Add(lv).Op("=").Add(e.rt("Some")).Call(val)
		}
		return jen.Add(lv).Op("=").Add(val)
	}
	readParam := func(prm *param) jen.Code {
		if !prm.required {
			return jen.Int64().Call(jen.Id(params).Dot(prm.goName).Dot("Value"))
		}
		return jen.Int64().Call(jen.Id(params).Dot(prm.goName))
	}
	sig := []jen.Code{jen.Id(ctx).Qual("context", "Context")}
	args := []jen.Code{jen.Id(ctx)}
	for _, pp := range o.pathParams {
		a := ns.Unexported(pp.goName)
		sig = append(sig, jen.Id(a).Add(e.typ(pp.typ)))
		args = append(args, jen.Id(a))
	}
	sig = append(sig, jen.Id(params).Id(o.paramsType), jen.Id(opts).Op("...").Qual(e.g.cfg.RuntimeImport, "Option"))
	args = append(args, jen.Id(params), jen.Id(opts).Op("..."))
	call := jen.List(jen.Id(res), jen.Err()).Op(":=").Id(recv).Dot(o.goName).Call(args...)
	fetchErr := jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(page.Clone().Values(), jen.Err()))

	ifSet := func(prm *param, then jen.Code) jen.Code {
		if prm.required {
			return then
		}
		return jen.If(jen.Id(params).Dot(prm.goName).Dot("Set")).Block(then)
	}
	var stmts []jen.Code
	var text string
	if p.offset != nil {
		off, lim := ns.Unexported("offset"), ns.Unexported("limit")
		fetch := jen.Func().Params(jen.Id(ctx).Qual("context", "Context"), jen.Id(off).Int64(), jen.Id(lim).Int64()).Params(page.Clone(), jen.Error()).Block(
			append([]jen.Code{setParam(p.offset, jen.Id(off)), jen.If(jen.Id(lim).Op(">").Lit(0)).Block(setParam(p.limit, jen.Id(lim))), call, fetchErr}, pageOf()...)...)
		start, size := ns.Unexported("start"), ns.Unexported("size")
		stmts = []jen.Code{
			jen.Var().Id(start).Int64(),
			ifSet(p.offset, jen.Id(start).Op("=").Add(readParam(p.offset))),
			jen.Var().Id(size).Int64(),
			ifSet(p.limit, jen.Id(size).Op("=").Add(readParam(p.limit))),
			jen.Return(e.rt("PaginateOffset").Call(jen.Id(ctx), jen.Lit(opLabel(o)), jen.Id(start), jen.Id(size), jen.Lit(0), fetch)),
		}
		text = fmt.Sprintf("%s ranges over the items of every page of %s, from params' %s on, %s at a time (the server's page size when unset),\nfetching each page as the loop reaches it. A server that ignores %s or %s\nends the loop with a *runtime.ProtocolError.", o.allName, o.goName, p.offset.name, p.limit.name, p.limit.name, p.offset.name)
	} else {
		fetch := jen.Func().Params(jen.Id(ctx).Qual("context", "Context"), jen.Id(cur).String()).Params(page.Clone(), jen.Error()).Block(
			append([]jen.Code{
				jen.If(jen.Id(cur).Op("!=").Lit("")).Block(setParam(p.cursor, jen.Id(cur))),
				call, fetchErr}, pageOf()...)...)
		stmts = []jen.Code{jen.Return(e.rt("PaginateCursor").Call(jen.Id(ctx), jen.Lit(opLabel(o)), fetch))}
		text = fmt.Sprintf("%s ranges over the items of every page of %s, following the %q\ncursor from page to page, fetching each page as the loop reaches it. A server\nthat hands back the same cursor twice ends the loop with a *runtime.ProtocolError.", o.allName, o.goName, p.next.json)
	}
	f.Add(doc(text + " Stopping the loop early fetches no more pages."))
	f.Func().Params(jen.Id(recv).Op("*").Id("Client")).Id(o.allName).Params(sig...).Qual("iter", "Seq2").Types(item, jen.Error()).Block(stmts...)
	f.Line()
}

// asString converts v, of a string type (a defined one, say), to string.
func (e *emitter) asString(v jen.Code, t *typeRef) jen.Code {
	if t.kind == tBasic {
		return v
	}
	return jen.String().Call(v)
}

// resultMember returns the field of o's result for the JSON member name,
// or nil. A result whose type lives in a mapped package is described from
// its schema, named as that package's generator names it.
func (g *gen) resultMember(o *operation, name string) *field {
	n := unwrapColl(o.result.typ)
	if n.kind == tNamed && n.named.kind == ntStruct {
		for _, f := range n.named.fields {
			if f.json == name && !f.ptr {
				return f
			}
		}
		return nil
	}
	if n.kind != tQual || g.resultSchema[o] == nil || g.resultSchema[o].Value == nil {
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
	return &field{name: fieldNames(props, order)[name], json: name, required: req[name], nullable: nullable(p), typ: g.resolve(inFile(p, file), "")}
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
