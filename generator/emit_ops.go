package generator

import (
	"fmt"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/dave/jennifer/jen"
)

// paramField renders the type of a params struct field.
func (e *emitter) paramFieldType(p *param) *jen.Statement {
	t := e.typ(p.typ)
	if p.required || p.typ.kind == tSlice || p.typ.kind == tMap || p.typ.isRaw() {
		return t
	}
	return e.rt("Opt").Types(t)
}

// scalar returns an expression formatting v of type t as text, or nil when
// t has no plain text form.
func (e *emitter) scalar(t *typeRef, v jen.Code) jen.Code {
	switch t.kind {
	case tBasic:
		switch t.name {
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
	case tQual:
		if t.pkg == "time" && t.name == "Time" {
			return jen.Add(v).Dot("Format").Call(jen.Qual("time", "RFC3339Nano"))
		}
		if t.under != nil {
			return e.scalar(t.under, jen.Id(t.under.name).Call(v))
		}
	case tNamed:
		n := t.named
		switch n.kind {
		case ntEnum:
			return jen.String().Call(v)
		case ntAlias:
			return e.scalar(n.under, v)
		case ntDef:
			if n.under.kind == tBasic {
				return e.scalar(n.under, jen.Id(n.under.name).Call(v))
			}
		}
	}
	return nil
}

// textOf formats v as text, falling back to JSON.
func (e *emitter) textOf(t *typeRef, v jen.Code) jen.Code {
	if s := e.scalar(t, v); s != nil {
		return s
	}
	return e.helper("formatJSON").Call(v)
}

// unwrapColl returns the element type when t is (or names) a slice or map.
func unwrapColl(t *typeRef) *typeRef {
	for t.kind == tNamed && (t.named.kind == ntDef || t.named.kind == ntAlias) && t.named.under != nil {
		t = t.named.under
	}
	return t
}

// encodeParam appends statements adding parameter p, whose value is v, to
// the url.Values or http.Header named dst.
func (e *emitter) encodeParam(ns *naming.Scope, p *param, v jen.Code, dst string) []jen.Code {
	u := unwrapColl(p.typ)
	sep := ","
	switch p.style {
	case "pipeDelimited":
		sep = "|"
	case "spaceDelimited":
		sep = " "
	}
	add := "Add"
	switch {
	case u.kind == tSlice && !(u.elem.kind == tBasic && u.elem.name == "byte"):
		x := ns.Unexported("x")
		if p.explode && p.in == "query" {
			return []jen.Code{jen.For(jen.List(jen.Id("_"), jen.Id(x)).Op(":=").Range().Add(v)).Block(
				jen.Id(dst).Dot(add).Call(jen.Lit(p.name), e.textOf(u.elem, jen.Id(x))))}
		}
		parts := ns.Unexported("parts")
		return []jen.Code{
			jen.Id(parts).Op(":=").Make(jen.Index().String(), jen.Lit(0), jen.Len(v)),
			jen.For(jen.List(jen.Id("_"), jen.Id(x)).Op(":=").Range().Add(v)).Block(
				jen.Id(parts).Op("=").Append(jen.Id(parts), e.textOf(u.elem, jen.Id(x)))),
			jen.If(jen.Len(jen.Id(parts)).Op(">").Lit(0)).Block(
				jen.Id(dst).Dot("Set").Call(jen.Lit(p.name), jen.Qual("strings", "Join").Call(jen.Id(parts), jen.Lit(sep)))),
		}
	case u.kind == tMap && p.in == "query":
		k, x := ns.Unexported("k"), ns.Unexported("x")
		key := jen.Id(k)
		if p.style == "deepObject" {
			key = jen.Lit(p.name + "[").Op("+").Id(k).Op("+").Lit("]")
		} else if !p.explode {
			e.g.warn(nil, "query parameter %q: form style without explode for a map is sent exploded", p.name)
		}
		return []jen.Code{jen.For(jen.List(jen.Id(k), jen.Id(x)).Op(":=").Range().Add(v)).Block(
			jen.Id(dst).Dot(add).Call(key, e.textOf(u.elem, jen.Id(x))))}
	case u.kind == tNamed && u.named.kind == ntStruct && p.in == "query" && (p.style == "deepObject" || p.explode):
		return e.encodeObject(ns, p, u.named, v, dst)
	}
	return []jen.Code{jen.Id(dst).Dot("Set").Call(jen.Lit(p.name), e.textOf(p.typ, v))}
}

// encodeObject adds the members of the object parameter p, whose value v
// has struct type n: as name[member]=value for deepObject, as member=value
// for exploded form (and form bodies). Array members repeat their key;
// members that are objects themselves are sent as JSON.
func (e *emitter) encodeObject(ns *naming.Scope, p *param, n *namedType, v jen.Code, dst string) []jen.Code {
	var out []jen.Code
	for _, fl := range n.fields {
		if !validTag(fl.json) {
			continue
		}
		key := fl.json
		if p.style == "deepObject" {
			key = p.name + "[" + fl.json + "]"
		}
		sub := &param{name: key, in: "query", style: "form", explode: true, typ: fl.typ}
		if u := unwrapColl(fl.typ); u.kind == tNamed && u.named.kind == ntStruct {
			sub.typ = tRaw // nested objects: JSON text
		}
		encode := func(x jen.Code) []jen.Code {
			if sub.typ.isRaw() {
				return []jen.Code{jen.Id(dst).Dot("Set").Call(jen.Lit(key), e.helper("formatJSON").Call(x))}
			}
			return e.encodeParam(ns, sub, x, dst)
		}
		val := jen.Add(v).Dot(fl.name)
		switch {
		case fl.ptr:
			out = append(out, jen.If(jen.Add(val).Op("!=").Nil()).Block(encode(jen.Op("*").Add(val))...))
		case fl.typ.isRaw():
			out = append(out, jen.If(jen.Len(val).Op(">").Lit(0)).Block(
				jen.Id(dst).Dot("Set").Call(jen.Lit(key), jen.String().Call(val))))
		case fl.required && !fl.nullable:
			out = append(out, encode(val)...)
		default:
			fv, fok := ns.Unexported("member"), ns.Unexported("present")
			out = append(out, jen.If(jen.List(jen.Id(fv), jen.Id(fok)).Op(":=").Add(val).Dot("Get").Call(), jen.Id(fok)).Block(encode(jen.Id(fv))...))
		}
	}
	if n.extra != nil {
		k, x := ns.Unexported("k"), ns.Unexported("x")
		key := jen.Id(k)
		if p.style == "deepObject" {
			key = jen.Lit(p.name + "[").Op("+").Id(k).Op("+").Lit("]")
		}
		out = append(out, jen.For(jen.List(jen.Id(k), jen.Id(x)).Op(":=").Range().Add(v).Dot(n.extraF)).Block(
			jen.Id(dst).Dot("Add").Call(key, e.textOf(n.extra, jen.Id(x)))))
	}
	return out
}

// params renders the params struct of o and its encoding methods.
func (e *emitter) params(f *jen.File, o *operation) {
	var fields []jen.Code
	for _, p := range append(append([]*param{}, o.query...), o.header...) {
		req := "optional"
		if p.required {
			req = "required"
		}
		text := fmt.Sprintf("%s is the %s parameter %q (%s).", p.goName, p.in, p.name, req)
		fields = append(fields, doc(text, p.doc).Id(p.goName).Add(e.paramFieldType(p)))
	}
	f.Add(doc(fmt.Sprintf("%s holds the query and header parameters of %s %s.", o.paramsType, o.method, o.path)))
	f.Type().Id(o.paramsType).Struct(fields...)
	f.Line()
	for _, set := range []struct {
		ps   []*param
		name string
		typ  jen.Code
		mk   jen.Code
	}{
		{o.query, "encodeQuery", jen.Qual("net/url", "Values"), jen.Make(jen.Qual("net/url", "Values"))},
		{o.header, "encodeHeader", jen.Qual("net/http", "Header"), jen.Make(jen.Qual("net/http", "Header"))},
	} {
		if len(set.ps) == 0 || o.websocket && set.name == "encodeHeader" {
			continue
		}
		ns := naming.NewScope(e.g.ns)
		recv := ns.Unexported("p")
		dst := ns.Unexported("out")
		body := []jen.Code{jen.Id(dst).Op(":=").Add(set.mk)}
		// Statements a parameter adds at the top level may declare locals
		// (the parts of a list); a second such parameter gets a block of
		// its own, so the names do not clash.
		topLocals := false
		for _, p := range set.ps {
			field := jen.Id(recv).Dot(p.goName)
			if p.required || p.typ.kind == tSlice || p.typ.kind == tMap || p.typ.isRaw() {
				if p.typ.isRaw() {
					body = append(body, jen.If(jen.Len(field).Op(">").Lit(0)).Block(jen.Id(dst).Dot("Set").Call(jen.Lit(p.name), jen.String().Call(jen.Id(recv).Dot(p.goName)))))
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
		f.Func().Params(jen.Id(recv).Id(o.paramsType)).Id(set.name).Params().Add(set.typ).Block(body...)
		f.Line()
	}
}

// pathExpr builds the request path of o with path parameters substituted.
func (e *emitter) pathExpr(o *operation, args map[*param]string) jen.Code {
	var parts []jen.Code
	rest := o.path
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
		var p *param
		for _, pp := range o.pathParams {
			if pp.name == name {
				p = pp
			}
		}
		if p == nil {
			parts = append(parts, jen.Lit("{"+name+"}"))
			continue
		}
		v := jen.Id(args[p])
		if p.segments {
			parts = append(parts, v)
			continue
		}
		u := unwrapColl(p.typ)
		if u.kind == tSlice {
			x := "x"
			parts = append(parts, jen.Qual("net/url", "PathEscape").Call(jen.Func().Params().String().Block(
				jen.Id("parts").Op(":=").Make(jen.Index().String(), jen.Lit(0), jen.Len(v)),
				jen.For(jen.List(jen.Id("_"), jen.Id(x)).Op(":=").Range().Add(v)).Block(jen.Id("parts").Op("=").Append(jen.Id("parts"), e.textOf(u.elem, jen.Id(x)))),
				jen.Return(jen.Qual("strings", "Join").Call(jen.Id("parts"), jen.Lit(","))),
			).Call()))
			continue
		}
		parts = append(parts, jen.Qual("net/url", "PathEscape").Call(e.textOf(p.typ, v)))
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

func (e *emitter) errorWords(o *operation) string {
	if len(o.errors) == 0 && len(o.textErrors) == 0 {
		return "A non-2xx response is returned as a *runtime.APIError."
	}
	var parts []string
	for _, er := range o.errors {
		st := er.status
		if st == "default" {
			st = "any other status"
		}
		parts = append(parts, fmt.Sprintf("%s: *%s", st, e.typeName(er.typ)))
	}
	s := "A non-2xx response is returned as a *runtime.APIError."
	if len(parts) > 0 {
		s += " Its Detail holds the decoded error body for\nthe documented statuses: " + strings.Join(parts, "; ") + "."
	}
	if len(o.textErrors) > 0 {
		s += "\nStatuses " + strings.Join(o.textErrors, ", ") + " answer with plain text, kept in Body and Message."
	}
	return s
}

// typeName renders t as Go source text, for docs.
func (e *emitter) typeName(t *typeRef) string {
	switch t.kind {
	case tQual:
		return t.pkg[strings.LastIndex(t.pkg, "/")+1:] + "." + t.name
	case tSlice:
		return "[]" + e.typeName(t.elem)
	case tMap:
		return "map[string]" + e.typeName(t.elem)
	}
	return t.name
}

func (e *emitter) operation(f *jen.File, o *operation) {
	g := e.g
	if o.resultType != "" {
		e.resultStruct(f, o)
	}
	ns := g.ns.Child()
	recv := ns.Unexported("c")
	ctx := ns.Unexported("ctx")
	args := map[*param]string{}
	params := []jen.Code{jen.Id(ctx).Qual("context", "Context")}
	for _, p := range o.pathParams {
		args[p] = ns.Unexported(p.goName)
		params = append(params, jen.Id(args[p]).Add(e.typ(p.typ)))
	}
	var paramsName, bodyName string
	if o.paramsType != "" {
		paramsName = ns.Unexported("params")
		params = append(params, jen.Id(paramsName).Id(o.paramsType))
	}
	if o.body != nil {
		bodyName = ns.Unexported("body")
		params = append(params, jen.Id(bodyName).Add(e.typ(o.body.typ)))
	}
	opts := ns.Unexported("opts")
	params = append(params, jen.Id(opts).Op("...").Qual(g.cfg.RuntimeImport, "Option"))
	req := ns.Unexported("req")
	errName := "err"
	ns.Reserve("err")
	out := ns.Unexported("out")

	var results []jen.Code
	var zero jen.Code
	switch {
	case o.stream != nil:
		results = []jen.Code{jen.Qual("iter", "Seq2").Types(e.streamItem(o), jen.Error())}
	case o.streaming:
		results = []jen.Code{jen.Qual("io", "ReadCloser"), jen.Error()}
		zero = jen.Nil()
	case o.resultType != "":
		results = []jen.Code{jen.Op("*").Id(o.resultType), jen.Error()}
		zero = jen.Nil()
	default:
		results, zero = e.bodyResults(o)
	}
	ret := func(err jen.Code) jen.Code {
		if o.stream != nil {
			return jen.Return(e.rt("StreamError").Types(e.streamItem(o)).Call(err))
		}
		if zero == nil {
			return jen.Return(err)
		}
		return jen.Return(zero, err)
	}
	var body []jen.Code
	errDeclared := false
	pathArgs := map[*param]string{}
	for _, p := range o.pathParams {
		pathArgs[p] = args[p]
		if !p.segments {
			continue
		}
		// A multi-segment parameter is checked and escaped before any
		// request: an empty path or a "." or ".." segment is refused.
		local := ns.Unexported(p.goName + "Path")
		pathArgs[p] = local
		body = append(body,
			jen.List(jen.Id(local), jen.Id(errName)).Op(":=").Add(e.rt("EscapePathSegments")).Call(jen.Id(args[p])),
			jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Qual("fmt", "Errorf").Call(jen.Lit(opLabel(o)+": path parameter "+p.name+": %w"), jen.Id(errName)))),
		)
		errDeclared = true
	}
	fields := map[string]jen.Code{
		"OperationID": jen.Lit(opLabel(o)),
		"Method":      methodConst(o.method),
		"Path":        e.pathExpr(o, pathArgs),
		"RetrySafe":   jen.Lit(o.retrySafe),
	}
	if o.errorFunc != "" {
		fields["ErrorBody"] = jen.Id(o.errorFunc)
	}
	if e.g.errCodesVar != "" {
		fields["ErrorCodes"] = jen.Id(e.g.errCodesVar)
	}
	if len(o.query) > 0 {
		fields["Query"] = jen.Id(paramsName).Dot("encodeQuery").Call()
	}
	if len(o.header) > 0 {
		fields["Header"] = jen.Id(paramsName).Dot("encodeHeader").Call()
	}
	if o.accept != "" {
		fields["Accept"] = jen.Lit(o.accept)
	}
	if b := o.body; b != nil {
		fields["ContentType"] = jen.Lit(b.contentType)
		data := ns.Unexported("data")
		switch b.kind {
		case bodyJSON:
			body = append(body,
				jen.List(jen.Id(data), jen.Id(errName)).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id(bodyName)),
				jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Qual("fmt", "Errorf").Call(jen.Lit(opLabel(o)+": encode request body: %w"), jen.Id(errName)))),
			)
			errDeclared = true
			fields["Body"] = jen.Id(data)
		case bodyForm:
			fields["Body"] = jen.Index().Byte().Call(e.formValues(naming.ScopeIn(ns), b.typ.named, jen.Id(bodyName)).Dot("Encode").Call())
		case bodyMultipart:
			ct := ns.Unexported("contentType")
			body = append(body, e.multipart(naming.ScopeIn(ns), b.typ.named, jen.Id(bodyName), data, ct, errName, errDeclared, ret)...)
			errDeclared = true
			fields["Body"] = jen.Id(data)
			fields["ContentType"] = jen.Id(ct)
		case bodyText:
			fields["Body"] = jen.Index().Byte().Call(jen.Id(bodyName))
		default:
			fields["BodyStream"] = jen.Id(bodyName)
		}
	}
	if o.resultType != "" {
		body = append([]jen.Code{jen.Var().Id(out).Id(o.resultType)}, body...)
		fields["Response"] = e.responseFunc(o, ns, out)
	}
	dict := jen.Dict{}
	for _, k := range sortedKeys(fields) {
		dict[jen.Id(k)] = fields[k]
	}
	body = append(body, jen.Id(req).Op(":=").Qual(g.cfg.RuntimeImport, "Request").Values(dict))
	assign := ":="
	if errDeclared {
		assign = "="
	}
	switch {
	case o.stream != nil:
		body = append(body, e.streamCall(o, recv, ctx, req, opts))
	case o.streaming:
		resp := ns.Unexported("resp")
		body = append(body,
			jen.List(jen.Id(resp), jen.Id(errName)).Op(assign).Id(recv).Dot("rt").Dot("Open").Call(jen.Id(ctx), jen.Op("&").Id(req), jen.Id(opts).Op("...")),
			jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Id(errName))),
			jen.Return(jen.Id(resp).Dot("Body"), jen.Nil()))
	case o.resultType != "":
		body = append(body,
			jen.If(jen.Id(errName).Op(assign).Id(recv).Dot("rt").Dot("Do").Call(jen.Id(ctx), jen.Op("&").Id(req), jen.Nil(), jen.Id(opts).Op("...")), jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Id(errName))),
			jen.Return(jen.Op("&").Id(out), jen.Nil()))
	case o.result.kind == bodyNone:
		body = append(body, jen.Return(jen.Id(recv).Dot("rt").Dot("Do").Call(jen.Id(ctx), jen.Op("&").Id(req), jen.Nil(), jen.Id(opts).Op("..."))))
	default:
		var outType jen.Code
		switch o.result.kind {
		case bodyText:
			outType = jen.String()
		case bodyBinary:
			outType = jen.Index().Byte()
		default:
			outType = e.typ(o.result.typ)
		}
		body = append(body,
			jen.Var().Id(out).Add(outType),
			jen.Id(errName).Op(assign).Id(recv).Dot("rt").Dot("Do").Call(jen.Id(ctx), jen.Op("&").Id(req), jen.Op("&").Id(out), jen.Id(opts).Op("...")),
			jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Id(errName))),
		)
		if o.result.kind == bodyJSON && !byValue(o.result.typ) {
			body = append(body, jen.Return(jen.Op("&").Id(out), jen.Nil()))
		} else {
			body = append(body, jen.Return(jen.Id(out), jen.Nil()))
		}
	}
	text := fmt.Sprintf("%s calls %s %s", o.goName, o.method, o.path)
	if o.id != "" {
		text += fmt.Sprintf(" (operation %s)", o.id)
	}
	text += "."
	var more []string
	if o.summary != "" {
		more = append(more, o.summary)
	}
	if o.description != "" && o.description != o.summary {
		more = append(more, o.description)
	}
	more = append(more, e.streamWords(o), e.errorWords(o))
	if o.deprecated {
		more = append(more, "Deprecated: the spec marks this operation deprecated.")
	}
	f.Add(doc(text, more...))
	f.Func().Params(jen.Id(recv).Op("*").Id("Client")).Id(o.goName).Params(params...).Params(results...).Block(body...)
	f.Line()
	if o.errorFunc != "" && !o.sibling {
		e.errorFunc(f, o)
	}
	if o.stream != nil && o.stream.kind == streamSSE {
		e.sseEventType(f, o)
	}
}

func opLabel(o *operation) string {
	if o.id != "" {
		return o.id
	}
	return o.method + " " + o.path
}

// errorFunc renders the ErrorBody function of o.
func (e *emitter) errorFunc(f *jen.File, o *operation) {
	status := e.g.ns.Child().Unexported("status")
	var cases []jen.Code
	var def jen.Code
	var classes []jen.Code
	for _, er := range o.errors {
		ret := jen.Return(jen.New(e.typ(er.typ)))
		switch c := statusClass(er.status); {
		case er.status == "default":
			def = ret
		case strings.HasSuffix(strings.ToUpper(er.status), "XX"):
			classes = append(classes, jen.Case(jen.Id(status).Op("/").Lit(100).Op("==").Lit(c)).Block(ret))
		default:
			cases = append(cases, jen.Case(jen.Id(status).Op("==").Lit(atoi(er.status))).Block(ret))
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
	f.Add(doc(fmt.Sprintf("%s returns a value to decode the error body of %s into, by status.", o.errorFunc, opLabel(o))))
	f.Func().Id(o.errorFunc).Params(jen.Id(status).Int()).Any().Block(body...)
	f.Line()
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// formValues builds url.Values from the struct value v of type n.
func (e *emitter) formValues(ns *naming.Scope, n *namedType, v jen.Code) *jen.Statement {
	vals := ns.Unexported("form")
	stmts := []jen.Code{jen.Id(vals).Op(":=").Make(jen.Qual("net/url", "Values"))}
	stmts = append(stmts, e.encodeObject(ns, &param{style: "form", explode: true}, n, v, vals)...)
	stmts = append(stmts, jen.Return(jen.Id(vals)))
	return jen.Func().Params().Qual("net/url", "Values").Block(stmts...).Call()
}

// multipart renders statements encoding the struct value v of type n as a
// multipart/form-data body into data, with its content type in ct.
func (e *emitter) multipart(ns *naming.Scope, n *namedType, v jen.Code, data, ct, errName string, errDeclared bool, ret func(jen.Code) jen.Code) []jen.Code {
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
	for _, fl := range n.fields {
		if !isBinaryField(fl) {
			continue
		}
		part := ns.Unexported("part")
		val := jen.Add(v).Dot(fl.name)
		write := []jen.Code{
			jen.List(jen.Id(part), jen.Id(errName)).Op(":=").Id(w).Dot("CreateFormFile").Call(jen.Lit(fl.json), jen.Lit(fl.json)),
			jen.If(jen.Id(errName).Op("!=").Nil()).Block(ret(jen.Qual("fmt", "Errorf").Call(jen.Lit("encode multipart body: %w"), jen.Id(errName)))),
			jen.If(jen.List(jen.Id("_"), jen.Id(errName)).Op("=").Id(part).Dot("Write").Call(jen.Id(x)), jen.Id(errName).Op("!=").Nil()).Block(
				ret(jen.Qual("fmt", "Errorf").Call(jen.Lit("encode multipart body: %w"), jen.Id(errName)))),
		}
		if fl.required && !fl.nullable {
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

func isBinaryField(fl *field) bool {
	return fl.typ.kind == tSlice && fl.typ.elem.kind == tBasic && fl.typ.elem.name == "byte" || fl.typ.kind == tQual && fl.typ.text
}

func withoutBinary(n *namedType) *namedType {
	c := *n
	c.fields = nil
	for _, fl := range n.fields {
		if !isBinaryField(fl) {
			c.fields = append(c.fields, fl)
		}
	}
	return &c
}

// byValue reports whether a JSON result of type t is returned as is rather
// than by pointer: slices, maps and raw JSON, whose zero value is nil.
func byValue(t *typeRef) bool {
	return t.kind == tSlice || t.kind == tMap || t.isRaw()
}
