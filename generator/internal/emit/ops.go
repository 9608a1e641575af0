package emit

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/dave/jennifer/jen"
)

// paramField renders the type of a params struct field.
func (e *emitter) paramFieldType(p *ir.Param) *jen.Statement {
	t := e.typ(p.Type)
	if p.Required || p.Type.Kind == ir.Slice || p.Type.Kind == ir.Map || p.Type.IsRaw() {
		return t
	}
	return e.rt("Opt").Types(t)
}

// scalar returns an expression formatting v of type t as text, or nil when
// t has no plain text form.
func (e *emitter) scalar(t *ir.TypeRef, v jen.Code) jen.Code {
	switch t.Kind {
	case ir.Basic:
		switch t.Name {
		case "string":
			return v
		case "int64":
			return jen.Qual("strconv", "FormatInt").Call(v, jen.Lit(10))
		case "int32", "int":
			return jen.Qual("strconv", "FormatInt").Call(jen.Int64().Call(v), jen.Lit(10))
		case "float64":
			return jen.Qual("strconv", "FormatFloat").Call(v, jen.LitRune('g'), jen.Lit(-1), jen.Lit(64))
		case "float32":
			return jen.Qual("strconv", "FormatFloat").Call(jen.Float64().Call(v), jen.LitRune('g'), jen.Lit(-1), jen.Lit(32))
		case "bool":
			return jen.Qual("strconv", "FormatBool").Call(v)
		}
	case ir.Qual:
		if t.Pkg == "time" && t.Name == "Time" {
			return jen.Add(v).Dot("Format").Call(jen.Qual("time", "RFC3339Nano"))
		}
		if t.Under != nil {
			return e.scalar(t.Under, jen.Id(t.Under.Name).Call(v))
		}
	case ir.Named:
		n := t.Named
		switch n.Kind {
		case ir.Enum:
			return jen.String().Call(v)
		case ir.Alias:
			return e.scalar(n.Under, v)
		case ir.Def:
			if n.Under.Kind == ir.Basic {
				return e.scalar(n.Under, jen.Id(n.Under.Name).Call(v))
			}
		}
	}
	return nil
}

// textOf formats v as text, falling back to JSON.
func (e *emitter) textOf(t *ir.TypeRef, v jen.Code) jen.Code {
	if s := e.scalar(t, v); s != nil {
		return s
	}
	return e.helper("formatJSON").Call(v)
}

// encodeParam appends statements adding parameter p, whose value is v, to
// the url.Values or http.Header named dst.
func (e *emitter) encodeParam(ns *naming.Scope, p *ir.Param, v jen.Code, dst string) []jen.Code {
	u := p.Type.Resolve()
	sep := ","
	switch p.Style {
	case "pipeDelimited":
		sep = "|"
	case "spaceDelimited":
		sep = " "
	}
	add := "Add"
	switch {
	case u.Kind == ir.Slice && !(u.Elem.Kind == ir.Basic && u.Elem.Name == "byte"):
		x := ns.Unexported("x")
		if p.Explode && p.In == "query" {
			return []jen.Code{jen.For(jen.List(jen.Id("_"), jen.Id(x)).Op(":=").Range().Add(v)).Block(
				jen.Id(dst).Dot(add).Call(jen.Lit(p.Name), e.textOf(u.Elem, jen.Id(x))))}
		}
		parts := ns.Unexported("parts")
		return []jen.Code{
			jen.Id(parts).Op(":=").Make(jen.Index().String(), jen.Lit(0), jen.Len(v)),
			jen.For(jen.List(jen.Id("_"), jen.Id(x)).Op(":=").Range().Add(v)).Block(
				jen.Id(parts).Op("=").Append(jen.Id(parts), e.textOf(u.Elem, jen.Id(x)))),
			jen.If(jen.Len(jen.Id(parts)).Op(">").Lit(0)).Block(
				jen.Id(dst).Dot("Set").Call(jen.Lit(p.Name), jen.Qual("strings", "Join").Call(jen.Id(parts), jen.Lit(sep)))),
		}
	case u.Kind == ir.Map && p.In == "query":
		k, x := ns.Unexported("k"), ns.Unexported("x")
		key := jen.Id(k)
		if p.Style == "deepObject" {
			key = jen.Lit(p.Name + "[").Op("+").Id(k).Op("+").Lit("]")
		} else if !p.Explode {
			e.warn(ir.Pos{}, "query parameter %q: form style without explode for a map is sent exploded", p.Name)
		}
		return []jen.Code{jen.For(jen.List(jen.Id(k), jen.Id(x)).Op(":=").Range().Add(v)).Block(
			jen.Id(dst).Dot(add).Call(key, e.textOf(u.Elem, jen.Id(x))))}
	case u.Kind == ir.Named && u.Named.Kind == ir.Struct && p.In == "query" && (p.Style == "deepObject" || p.Explode):
		return e.encodeObject(ns, p, u.Named, v, dst)
	}
	return []jen.Code{jen.Id(dst).Dot("Set").Call(jen.Lit(p.Name), e.textOf(p.Type, v))}
}

// encodeObject adds the members of the object parameter p, whose value v
// has struct type n: as name[member]=value for deepObject, as member=value
// for exploded form (and form bodies). Array members repeat their key;
// members that are objects themselves are sent as JSON.
func (e *emitter) encodeObject(ns *naming.Scope, p *ir.Param, n *ir.Type, v jen.Code, dst string) []jen.Code {
	var out []jen.Code
	for _, fl := range n.Fields {
		if !ir.ValidTag(fl.JSON) {
			continue
		}
		key := fl.JSON
		if p.Style == "deepObject" {
			key = p.Name + "[" + fl.JSON + "]"
		}
		sub := &ir.Param{Name: key, In: "query", Style: "form", Explode: true, Type: fl.Type}
		if u := fl.Type.Resolve(); u.Kind == ir.Named && u.Named.Kind == ir.Struct {
			sub.Type = ir.RawJSON // nested objects: JSON text
		}
		encode := func(x jen.Code) []jen.Code {
			if sub.Type.IsRaw() {
				return []jen.Code{jen.Id(dst).Dot("Set").Call(jen.Lit(key), e.helper("formatJSON").Call(x))}
			}
			return e.encodeParam(ns, sub, x, dst)
		}
		val := jen.Add(v).Dot(fl.Name)
		switch {
		case fl.Ptr:
			out = append(out, jen.If(jen.Add(val).Op("!=").Nil()).Block(encode(jen.Op("*").Add(val))...))
		case fl.Type.IsRaw():
			out = append(out, jen.If(jen.Len(val).Op(">").Lit(0)).Block(
				jen.Id(dst).Dot("Set").Call(jen.Lit(key), jen.String().Call(val))))
		case fl.Required && !fl.Nullable:
			out = append(out, encode(val)...)
		default:
			fv, fok := ns.Unexported("member"), ns.Unexported("present")
			out = append(out, jen.If(jen.List(jen.Id(fv), jen.Id(fok)).Op(":=").Add(val).Dot("Get").Call(), jen.Id(fok)).Block(encode(jen.Id(fv))...))
		}
	}
	if n.Extra != nil {
		k, x := ns.Unexported("k"), ns.Unexported("x")
		key := jen.Id(k)
		if p.Style == "deepObject" {
			key = jen.Lit(p.Name + "[").Op("+").Id(k).Op("+").Lit("]")
		}
		out = append(out, jen.For(jen.List(jen.Id(k), jen.Id(x)).Op(":=").Range().Add(v).Dot(n.ExtraField)).Block(
			jen.Id(dst).Dot("Add").Call(key, e.textOf(n.Extra, jen.Id(x)))))
	}
	return out
}

// params renders the params struct of o and its encoding methods.
func (e *emitter) params(f *jen.File, o *ir.Operation) {
	var fields []jen.Code
	for _, p := range append(append([]*ir.Param{}, o.Query...), o.Header...) {
		req := "optional"
		if p.Required {
			req = "required"
		}
		text := fmt.Sprintf("%s is the %s parameter %q (%s).", p.GoName, p.In, p.Name, req)
		fields = append(fields, doc(text, p.Doc).Id(p.GoName).Add(e.paramFieldType(p)))
	}
	f.Add(doc(fmt.Sprintf("%s holds the query and header parameters of %s %s.", o.ParamsType, o.Method, o.Path)))
	f.Type().Id(o.ParamsType).Struct(fields...)
	f.Line()
	for _, set := range []struct {
		ps   []*ir.Param
		name string
		typ  jen.Code
		mk   jen.Code
	}{
		{o.Query, "encodeQuery", jen.Qual("net/url", "Values"), jen.Make(jen.Qual("net/url", "Values"))},
		{o.Header, "encodeHeader", jen.Qual("net/http", "Header"), jen.Make(jen.Qual("net/http", "Header"))},
	} {
		if len(set.ps) == 0 || o.WebSocket && set.name == "encodeHeader" {
			continue
		}
		ns := naming.NewScope(e.api.Names)
		recv := ns.Unexported("p")
		dst := ns.Unexported("out")
		body := []jen.Code{jen.Id(dst).Op(":=").Add(set.mk)}
		// Statements a parameter adds at the top level may declare locals
		// (the parts of a list); a second such parameter gets a block of
		// its own, so the names do not clash.
		topLocals := false
		for _, p := range set.ps {
			field := jen.Id(recv).Dot(p.GoName)
			if p.Required || p.Type.Kind == ir.Slice || p.Type.Kind == ir.Map || p.Type.IsRaw() {
				if p.Type.IsRaw() {
					body = append(body, jen.If(jen.Len(field).Op(">").Lit(0)).Block(jen.Id(dst).Dot("Set").Call(jen.Lit(p.Name), jen.String().Call(jen.Id(recv).Dot(p.GoName)))))
					continue
				}
				stmts := e.encodeParam(ns, p, field, dst)
				if len(stmts) > 1 && topLocals {
					body = append(body, jen.Block(stmts...))
					continue
				}
				topLocals = topLocals || len(stmts) > 1
				body = append(body, stmts...)
				continue
			}
			v, ok := ns.Unexported("v"), ns.Unexported("ok")
			body = append(body, jen.If(jen.List(jen.Id(v), jen.Id(ok)).Op(":=").Add(field).Dot("Get").Call(), jen.Id(ok)).Block(
				e.encodeParam(ns, p, jen.Id(v), dst)...))
		}
		body = append(body, jen.Return(jen.Id(dst)))
		f.Add(doc(fmt.Sprintf("%s encodes the %s parameters.", set.name, strings.TrimPrefix(strings.ToLower(set.name), "encode"))))
		f.Func().Params(jen.Id(recv).Id(o.ParamsType)).Id(set.name).Params().Add(set.typ).Block(body...)
		f.Line()
	}
}

// pathExpr builds the request path of o with path parameters substituted.
func (e *emitter) pathExpr(o *ir.Operation, args map[*ir.Param]string) jen.Code {
	var parts []jen.Code
	rest := o.Path
	for rest != "" {
		i := strings.Index(rest, "{")
		j := strings.Index(rest, "}")
		if i < 0 || j < i {
			parts = append(parts, jen.Lit(rest))
			break
		}
		if i > 0 {
			parts = append(parts, jen.Lit(rest[:i]))
		}
		name := rest[i+1 : j]
		rest = rest[j+1:]
		var p *ir.Param
		for _, pp := range o.PathParams {
			if pp.Name == name {
				p = pp
			}
		}
		if p == nil {
			parts = append(parts, jen.Lit("{"+name+"}"))
			continue
		}
		v := jen.Id(args[p])
		if p.Segments {
			parts = append(parts, v)
			continue
		}
		u := p.Type.Resolve()
		if u.Kind == ir.Slice {
			x := "x"
			parts = append(parts, jen.Qual("net/url", "PathEscape").Call(jen.Func().Params().String().Block(
				jen.Id("parts").Op(":=").Make(jen.Index().String(), jen.Lit(0), jen.Len(v)),
				jen.For(jen.List(jen.Id("_"), jen.Id(x)).Op(":=").Range().Add(v)).Block(jen.Id("parts").Op("=").Append(jen.Id("parts"), e.textOf(u.Elem, jen.Id(x)))),
				jen.Return(jen.Qual("strings", "Join").Call(jen.Id("parts"), jen.Lit(","))),
			).Call()))
			continue
		}
		parts = append(parts, jen.Qual("net/url", "PathEscape").Call(e.textOf(p.Type, v)))
	}
	if len(parts) == 0 {
		return jen.Lit("/")
	}
	expr := jen.Add(parts[0])
	for _, p := range parts[1:] {
		expr = expr.Op("+").Add(p)
	}
	return expr
}

func (e *emitter) errorWords(o *ir.Operation) string {
	if len(o.Errors) == 0 && len(o.TextErrors) == 0 {
		return "A non-2xx response is returned as a *runtime.APIError."
	}
	var parts []string
	for _, er := range o.Errors {
		st := er.Status
		if st == "default" {
			st = "any other status"
		}
		parts = append(parts, fmt.Sprintf("%s: *%s", st, e.typeName(er.Type)))
	}
	s := "A non-2xx response is returned as a *runtime.APIError."
	if len(parts) > 0 {
		s += " Its Detail holds the decoded error body for\nthe documented statuses: " + strings.Join(parts, "; ") + "."
	}
	if len(o.TextErrors) > 0 {
		s += "\nStatuses " + strings.Join(o.TextErrors, ", ") + " answer with plain text, kept in Body and Message."
	}
	return s
}

// typeName renders t as Go source text, for docs.
func (e *emitter) typeName(t *ir.TypeRef) string {
	switch t.Kind {
	case ir.Qual:
		return t.Pkg[strings.LastIndex(t.Pkg, "/")+1:] + "." + t.Name
	case ir.Slice:
		return "[]" + e.typeName(t.Elem)
	case ir.Map:
		return "map[string]" + e.typeName(t.Elem)
	}
	return t.Name
}

func (e *emitter) operation(f *jen.File, o *ir.Operation) {
	if o.ResultType != "" {
		e.resultStruct(f, o)
	}
	ns := e.api.Names.Child()
	recv := ns.Unexported("c")
	ctx := ns.Unexported("ctx")
	args := map[*ir.Param]string{}
	params := []jen.Code{jen.Id(ctx).Qual("context", "Context")}
	for _, p := range o.PathParams {
		args[p] = ns.Unexported(p.GoName)
		params = append(params, jen.Id(args[p]).Add(e.typ(p.Type)))
	}
	var paramsName, bodyName string
	if o.ParamsType != "" {
		paramsName = ns.Unexported("params")
		params = append(params, jen.Id(paramsName).Id(o.ParamsType))
	}
	if o.Body != nil {
		bodyName = ns.Unexported("body")
		params = append(params, jen.Id(bodyName).Add(e.typ(o.Body.Type)))
	}
	opts := ns.Unexported("opts")
	params = append(params, jen.Id(opts).Op("...").Qual(e.cfg.RuntimeImport, "Option"))
	req := ns.Unexported("req")
	errName := "err"
	ns.Reserve("err")
	out := ns.Unexported("out")

	var results []jen.Code
	var zero jen.Code
	switch {
	case o.Stream != nil:
		results = []jen.Code{jen.Qual("iter", "Seq2").Types(e.streamItem(o), jen.Error())}
	case o.Streaming:
		results = []jen.Code{jen.Qual("io", "ReadCloser"), jen.Error()}
		zero = jen.Nil()
	case o.ResultType != "":
		results = []jen.Code{jen.Op("*").Id(o.ResultType), jen.Error()}
		zero = jen.Nil()
	default:
		results, zero = e.bodyResults(o)
	}
	ret := func(err jen.Code) jen.Code {
		if o.Stream != nil {
			return jen.Return(e.rt("StreamError").Types(e.streamItem(o)).Call(err))
		}
		if zero == nil {
			return jen.Return(err)
		}
		return jen.Return(zero, err)
	}
	var body []jen.Code
	errDeclared := false
	pathArgs := map[*ir.Param]string{}
	for _, p := range o.PathParams {
		pathArgs[p] = args[p]
		if !p.Segments {
			continue
		}
		// A multi-segment parameter is checked and escaped before any
		// request: an empty path or a "." or ".." segment is refused.
		local := ns.Unexported(p.GoName + "Path")
		pathArgs[p] = local
		body = append(body,
			jen.List(jen.Id(local), jen.Id(errName)).Op(":=").Add(e.rt("EscapePathSegments")).Call(jen.Id(args[p])),
			jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Qual("fmt", "Errorf").Call(jen.Lit(opLabel(o)+": path parameter "+p.Name+": %w"), jen.Id(errName)))),
		)
		errDeclared = true
	}
	fields := map[string]jen.Code{
		"OperationID": jen.Lit(opLabel(o)),
		"Method":      methodConst(o.Method),
		"Path":        e.pathExpr(o, pathArgs),
		"RetrySafe":   jen.Lit(o.RetrySafe),
	}
	if o.ErrorFunc != "" {
		fields["ErrorBody"] = jen.Id(o.ErrorFunc)
	}
	if e.api.ErrorCodesVar != "" {
		fields["ErrorCodes"] = jen.Id(e.api.ErrorCodesVar)
	}
	if len(o.Query) > 0 {
		fields["Query"] = jen.Id(paramsName).Dot("encodeQuery").Call()
	}
	if len(o.Header) > 0 {
		fields["Header"] = jen.Id(paramsName).Dot("encodeHeader").Call()
	}
	if o.Accept != "" {
		fields["Accept"] = jen.Lit(o.Accept)
	}
	if b := o.Body; b != nil {
		fields["ContentType"] = jen.Lit(b.ContentType)
		data := ns.Unexported("data")
		switch b.Kind {
		case ir.BodyJSON:
			body = append(body,
				jen.List(jen.Id(data), jen.Id(errName)).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id(bodyName)),
				jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Qual("fmt", "Errorf").Call(jen.Lit(opLabel(o)+": encode request body: %w"), jen.Id(errName)))),
			)
			errDeclared = true
			fields["Body"] = jen.Id(data)
		case ir.BodyForm:
			fields["Body"] = jen.Index().Byte().Call(e.formValues(naming.ScopeIn(ns), b.Type.Named, jen.Id(bodyName)).Dot("Encode").Call())
		case ir.BodyMultipart:
			ct := ns.Unexported("contentType")
			body = append(body, e.multipart(naming.ScopeIn(ns), b.Type.Named, jen.Id(bodyName), data, ct, errName, errDeclared, ret)...)
			errDeclared = true
			fields["Body"] = jen.Id(data)
			fields["ContentType"] = jen.Id(ct)
		case ir.BodyText:
			fields["Body"] = jen.Index().Byte().Call(jen.Id(bodyName))
		default:
			fields["BodyStream"] = jen.Id(bodyName)
		}
	}
	if o.ResultType != "" {
		body = append([]jen.Code{jen.Var().Id(out).Id(o.ResultType)}, body...)
		fields["Response"] = e.responseFunc(o, ns, out)
	}
	dict := jen.Dict{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		dict[jen.Id(k)] = fields[k]
	}
	body = append(body, jen.Id(req).Op(":=").Qual(e.cfg.RuntimeImport, "Request").Values(dict))
	assign := ":="
	if errDeclared {
		assign = "="
	}
	switch {
	case o.Stream != nil:
		body = append(body, e.streamCall(o, recv, ctx, req, opts))
	case o.Streaming:
		resp := ns.Unexported("resp")
		body = append(body,
			jen.List(jen.Id(resp), jen.Id(errName)).Op(assign).Id(recv).Dot("rt").Dot("Open").Call(jen.Id(ctx), jen.Op("&").Id(req), jen.Id(opts).Op("...")),
			jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Id(errName))),
			jen.Return(jen.Id(resp).Dot("Body"), jen.Nil()))
	case o.ResultType != "":
		body = append(body,
			jen.If(jen.Id(errName).Op(assign).Id(recv).Dot("rt").Dot("Do").Call(jen.Id(ctx), jen.Op("&").Id(req), jen.Nil(), jen.Id(opts).Op("...")), jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Id(errName))),
			jen.Return(jen.Op("&").Id(out), jen.Nil()))
	case o.Result.Kind == ir.BodyNone:
		body = append(body, jen.Return(jen.Id(recv).Dot("rt").Dot("Do").Call(jen.Id(ctx), jen.Op("&").Id(req), jen.Nil(), jen.Id(opts).Op("..."))))
	default:
		var outType jen.Code
		switch o.Result.Kind {
		case ir.BodyText:
			outType = jen.String()
		case ir.BodyBinary:
			outType = jen.Index().Byte()
		default:
			outType = e.typ(o.Result.Type)
		}
		body = append(body,
			jen.Var().Id(out).Add(outType),
			jen.Id(errName).Op(assign).Id(recv).Dot("rt").Dot("Do").Call(jen.Id(ctx), jen.Op("&").Id(req), jen.Op("&").Id(out), jen.Id(opts).Op("...")),
			jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Id(errName))),
		)
		if o.Result.Kind == ir.BodyJSON && !byValue(o.Result.Type) {
			body = append(body, jen.Return(jen.Op("&").Id(out), jen.Nil()))
		} else {
			body = append(body, jen.Return(jen.Id(out), jen.Nil()))
		}
	}
	text := fmt.Sprintf("%s calls %s %s", o.GoName, o.Method, o.Path)
	if o.ID != "" {
		text += fmt.Sprintf(" (operation %s)", o.ID)
	}
	text += "."
	var more []string
	if o.Summary != "" {
		more = append(more, o.Summary)
	}
	if o.Description != "" && o.Description != o.Summary {
		more = append(more, o.Description)
	}
	more = append(more, e.streamWords(o), e.errorWords(o))
	if o.Deprecated {
		more = append(more, "Deprecated: the spec marks this operation deprecated.")
	}
	f.Add(doc(text, more...))
	f.Func().Params(jen.Id(recv).Op("*").Id("Client")).Id(o.GoName).Params(params...).Params(results...).Block(body...)
	f.Line()
	if o.ErrorFunc != "" && !o.Sibling {
		e.errorFunc(f, o)
	}
	if o.Stream != nil && o.Stream.Kind == ir.StreamSSE {
		e.sseEventType(f, o)
	}
}

func opLabel(o *ir.Operation) string {
	if o.ID != "" {
		return o.ID
	}
	return o.Method + " " + o.Path
}

// errorFunc renders the ErrorBody function of o.
func (e *emitter) errorFunc(f *jen.File, o *ir.Operation) {
	status := e.api.Names.Child().Unexported("status")
	var cases []jen.Code
	var def jen.Code
	var classes []jen.Code
	for _, er := range o.Errors {
		ret := jen.Return(jen.New(e.typ(er.Type)))
		switch c := ir.StatusClass(er.Status); {
		case er.Status == "default":
			def = ret
		case strings.HasSuffix(strings.ToUpper(er.Status), "XX"):
			classes = append(classes, jen.Case(jen.Id(status).Op("/").Lit(100).Op("==").Lit(c)).Block(ret))
		default:
			cases = append(cases, jen.Case(jen.Id(status).Op("==").Lit(ir.StatusCode(er.Status))).Block(ret))
		}
	}
	all := append(cases, classes...)
	body := []jen.Code{}
	if len(all) > 0 {
		body = append(body, jen.Switch().Block(all...))
	}
	if def != nil {
		body = append(body, def)
	} else {
		body = append(body, jen.Return(jen.Nil()))
	}
	f.Add(doc(fmt.Sprintf("%s returns a value to decode the error body of %s into, by status.", o.ErrorFunc, opLabel(o))))
	f.Func().Id(o.ErrorFunc).Params(jen.Id(status).Int()).Any().Block(body...)
	f.Line()
}

// formValues builds url.Values from the struct value v of type n.
func (e *emitter) formValues(ns *naming.Scope, n *ir.Type, v jen.Code) *jen.Statement {
	vals := ns.Unexported("form")
	stmts := []jen.Code{jen.Id(vals).Op(":=").Make(jen.Qual("net/url", "Values"))}
	stmts = append(stmts, e.encodeObject(ns, &ir.Param{Style: "form", Explode: true}, n, v, vals)...)
	stmts = append(stmts, jen.Return(jen.Id(vals)))
	return jen.Func().Params().Qual("net/url", "Values").Block(stmts...).Call()
}

// multipart renders statements encoding the struct value v of type n as a
// multipart/form-data body into data, with its content type in ct.
func (e *emitter) multipart(ns *naming.Scope, n *ir.Type, v jen.Code, data, ct, errName string, errDeclared bool, ret func(jen.Code) jen.Code) []jen.Code {
	buf, w := ns.Unexported("buf"), ns.Unexported("mw")
	form := e.formValues(ns, withoutBinary(n), v)
	fv := ns.Unexported("fields")
	k, x := ns.Unexported("k"), ns.Unexported("x")
	stmts := []jen.Code{
		jen.Var().Id(buf).Qual("bytes", "Buffer"),
		jen.Id(w).Op(":=").Qual("mime/multipart", "NewWriter").Call(jen.Op("&").Id(buf)),
		jen.Id(fv).Op(":=").Add(form),
	}
	if !errDeclared {
		stmts = append(stmts, jen.Var().Id(errName).Error())
	}
	stmts = append(stmts,
		jen.For(jen.List(jen.Id("_"), jen.Id(k)).Op(":=").Range().Qual("slices", "Sorted").Call(jen.Qual("maps", "Keys").Call(jen.Id(fv)))).Block(
			jen.For(jen.List(jen.Id("_"), jen.Id(x)).Op(":=").Range().Id(fv).Index(jen.Id(k))).Block(
				jen.If(jen.Id(errName).Op("=").Id(w).Dot("WriteField").Call(jen.Id(k), jen.Id(x)), jen.Id(errName).Op("!=").Nil()).Block(
					ret(jen.Qual("fmt", "Errorf").Call(jen.Lit("encode multipart body: %w"), jen.Id(errName)))),
			),
		),
	)
	for _, fl := range n.Fields {
		if !isBinaryField(fl) {
			continue
		}
		part := ns.Unexported("part")
		val := jen.Add(v).Dot(fl.Name)
		write := []jen.Code{
			jen.List(jen.Id(part), jen.Id(errName)).Op(":=").Id(w).Dot("CreateFormFile").Call(jen.Lit(fl.JSON), jen.Lit(fl.JSON)),
			jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Qual("fmt", "Errorf").Call(jen.Lit("encode multipart body: %w"), jen.Id(errName)))),
			jen.If(jen.List(jen.Id("_"), jen.Id(errName)).Op("=").Id(part).Dot("Write").Call(jen.Id(x)), jen.Id(errName).Op("!=").Nil()).Block(
				ret(jen.Qual("fmt", "Errorf").Call(jen.Lit("encode multipart body: %w"), jen.Id(errName)))),
		}
		if fl.Required && !fl.Nullable {
			stmts = append(stmts, jen.Block(append([]jen.Code{jen.Id(x).Op(":=").Add(val)}, write...)...))
		} else {
			ok := ns.Unexported("ok")
			stmts = append(stmts, jen.If(jen.List(jen.Id(x), jen.Id(ok)).Op(":=").Add(val).Dot("Get").Call(), jen.Id(ok)).Block(write...))
		}
	}
	stmts = append(stmts,
		jen.If(jen.Id(errName).Op("=").Id(w).Dot("Close").Call(), jen.Id(errName).Op("!=").Nil()).Block(
			ret(jen.Qual("fmt", "Errorf").Call(jen.Lit("encode multipart body: %w"), jen.Id(errName)))),
		jen.Id(data).Op(":=").Id(buf).Dot("Bytes").Call(),
		jen.Id(ct).Op(":=").Id(w).Dot("FormDataContentType").Call(),
	)
	return stmts
}

func isBinaryField(fl *ir.Field) bool {
	return fl.Type.Kind == ir.Slice && fl.Type.Elem.Kind == ir.Basic && fl.Type.Elem.Name == "byte" || fl.Type.Kind == ir.Qual && fl.Type.Text
}

func withoutBinary(n *ir.Type) *ir.Type {
	c := *n
	c.Fields = nil
	for _, fl := range n.Fields {
		if !isBinaryField(fl) {
			c.Fields = append(c.Fields, fl)
		}
	}
	return &c
}

// byValue reports whether a JSON result of type t is returned as is rather
// than by pointer: slices, maps and raw JSON, whose zero value is nil.
func byValue(t *ir.TypeRef) bool {
	return t.Kind == ir.Slice || t.Kind == ir.Map || t.IsRaw()
}
