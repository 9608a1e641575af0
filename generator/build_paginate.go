package generator

import (
	"encoding/json"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
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
		if p.Limit = query(spec.Limit); p.Limit == nil || !p.Limit.Type.IsInt() {
			fail("limit %q is not an integer query parameter", spec.Limit)
			return
		}
	}
	switch {
	case spec.Offset != "" && spec.Cursor == "":
		if p.Offset = query(spec.Offset); p.Offset == nil || !p.Offset.Type.IsInt() {
			fail("offset %q is not an integer query parameter", spec.Offset)
			return
		}
		if p.Limit == nil {
			fail("offset paging needs a limit parameter")
			return
		}
	case spec.Cursor != "" && spec.Offset == "":
		if p.Cursor = query(spec.Cursor); p.Cursor == nil || p.Cursor.Type.Resolve().Kind != ir.Basic || p.Cursor.Type.Resolve().Name != "string" {
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
	if l := list.Resolve(); l.Kind != ir.Slice || l.Elem.Kind == ir.Basic && l.Elem.Name == "byte" {
		fail("the items are not a list")
		return
	} else {
		p.Item = l.Elem
	}
	if p.Cursor != nil {
		if p.Next = member(spec.Next); p.Next == nil || p.Next.Type.Resolve().Kind != ir.Basic || p.Next.Type.Resolve().Name != "string" {
			fail("next %q is not a string member of the result", spec.Next)
			return
		}
	}
	if spec.HasMore != "" {
		if p.HasMore = member(spec.HasMore); p.HasMore == nil || p.HasMore.Type.Resolve().Kind != ir.Basic || p.HasMore.Type.Resolve().Name != "bool" {
			fail("hasMore %q is not a boolean member of the result", spec.HasMore)
			return
		}
	}
	o.Pagination = p
	o.AllName = g.ns.Exported(o.GoName + "All")
}

// resultMember returns the field of o's result for the JSON member name,
// or nil. A result whose type lives in a mapped package is described from
// its schema, named as that package's generator names it.
func (g *gen) resultMember(o *ir.Operation, name string) *ir.Field {
	n := o.Result.Type.Resolve()
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
