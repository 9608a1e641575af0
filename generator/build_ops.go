package generator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/getkin/kin-openapi/openapi3"
)

var methodOrder = []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions, http.MethodHead, http.MethodPatch, http.MethodTrace, "QUERY"}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// extBool reads a boolean vendor extension.
func extBool(ext map[string]any, key string) bool {
	switch v := ext[key].(type) {
	case bool:
		return v
	case json.RawMessage:
		var b bool
		return json.Unmarshal(v, &b) == nil && b
	}
	return false
}

func (g *gen) buildOps() error {
	if g.doc.Paths == nil {
		return nil
	}
	methods := naming.NewNamespace()
	methods.Reserve("Runtime")
	paths := g.doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, p := range paths {
		item := g.doc.Paths.Value(p)
		if item == nil {
			continue
		}
		ops := item.Operations()
		for _, m := range methodOrder {
			op := ops[m]
			if op == nil {
				continue
			}
			if ref, ok := op.Extensions["$ref"]; ok {
				// The repair stage copies referenced operations in; one
				// left here could not be followed.
				g.warn(op.Origin, "operation %s %s is a reference (%v) that could not be followed; it is left out", m, p, ref)
				continue
			}
			if err := g.buildOp(methods, p, m, item, op); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *gen) buildOp(methods *naming.Namespace, p, method string, item *openapi3.PathItem, op *openapi3.Operation) error {
	o := &ir.Operation{ID: op.OperationID, Method: method, Path: p, Summary: op.Summary, Description: op.Description,
		Deprecated: op.Deprecated}
	g.opOrigin[o] = op.Origin
	if len(op.Tags) > 0 {
		o.Tag = op.Tags[0]
	}
	name := goNameExt(op.Extensions)
	if name == "" {
		name = op.OperationID
	}
	if name == "" {
		name = strings.ToLower(method) + " " + p
	}
	if _, ok := op.Extensions["x-websocket"]; ok {
		o.WebSocket = true
	}
	o.GoName = methods.Exported(name)
	if o.WebSocket {
		// The stream operation has no method; its name is used for the path
		// function and the params type.
		o.GoName = g.ns.Exported(o.GoName + "Path")
	} else {
		g.ns.Reserve(o.GoName)
	}
	base := strings.TrimSuffix(o.GoName, "Path")
	if !o.WebSocket {
		base = o.GoName
	}
	o.RetrySafe = extBool(op.Extensions, "x-retry-safe")
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		o.RetrySafe = true
	}

	// Parameters: operation-level override path-level ones with the same name and location.
	var params openapi3.Parameters
	g.checkDuplicateParams(item.Parameters, "", p)
	g.checkDuplicateParams(op.Parameters, method+" ", p)
	seen := map[string]bool{}
	for _, pr := range op.Parameters {
		if pr != nil && pr.Value != nil {
			seen[pr.Value.In+" "+pr.Value.Name] = true
			params = append(params, pr)
		}
	}
	for _, pr := range item.Parameters {
		if pr != nil && pr.Value != nil && !seen[pr.Value.In+" "+pr.Value.Name] {
			params = append(params, pr)
		}
	}
	fieldNS := naming.NewNamespace()
	var pathByName = map[string]*ir.Param{}
	for _, pr := range params {
		pv := pr.Value
		prm := &ir.Param{Name: pv.Name, In: pv.In, Required: pv.Required || pv.In == "path", Doc: withDeprecated(pv.Description, pv.Deprecated), Style: pv.Style}
		if pv.Explode != nil {
			prm.Explode = *pv.Explode
		} else {
			prm.Explode = pv.In == "query" || pv.In == "cookie"
			if prm.Style != "" && prm.Style != "form" {
				prm.Explode = false
			}
		}
		if pv.In == "path" && (prm.Style == "label" || prm.Style == "matrix") {
			g.warn(pv.Origin, "path parameter %q of %s %s: style %s is sent as simple", pv.Name, method, p, prm.Style)
			prm.Style = "simple"
		}
		if prm.Style == "" {
			switch pv.In {
			case "query", "cookie":
				prm.Style = "form"
			default:
				prm.Style = "simple"
			}
		}
		schema := pv.Schema
		if schema == nil {
			for _, mt := range sortedKeys(pv.Content) {
				if c := pv.Content[mt]; c != nil && c.Schema != nil {
					schema = c.Schema
					break
				}
			}
		}
		prm.Type = g.resolve(schema, base+naming.ExportedName(pv.Name))
		goName := goNameExt(pv.Extensions)
		if goName == "" {
			goName = pv.Name
		}
		switch pv.In {
		case "path":
			prm.GoName = goName
			if extBool(pv.Extensions, "x-path-segments") {
				if prm.Type.Kind != ir.Basic || prm.Type.Name != "string" {
					g.warn(pv.Origin, "path parameter %q of %s %s: x-path-segments applies to strings only", pv.Name, method, p)
				} else if o.WebSocket {
					g.warn(pv.Origin, "path parameter %q of %s %s: x-path-segments is not supported on a WebSocket operation", pv.Name, method, p)
				} else {
					prm.Segments = true
				}
			}
			pathByName[pv.Name] = prm
		case "query":
			prm.GoName = fieldNS.Exported(goName)
			o.Query = append(o.Query, prm)
		case "header":
			if strings.EqualFold(pv.Name, "Authorization") || strings.EqualFold(pv.Name, "Accept") {
				continue
			}
			prm.GoName = fieldNS.Exported(goName)
			o.Header = append(o.Header, prm)
		default:
			g.warn(pv.Origin, "%s parameter %q of %s %s is not supported and is left out", pv.In, pv.Name, method, p)
		}
	}
	for _, m := range pathParamRE.FindAllStringSubmatch(p, -1) {
		prm, ok := pathByName[m[1]]
		if !ok {
			g.warn(op.Origin, "path parameter %q of %s %s is not declared; typed as string", m[1], method, p)
			prm = &ir.Param{Name: m[1], GoName: m[1], In: "path", Required: true, Type: ir.String, Style: "simple"}
			pathByName[m[1]] = prm
		}
		if !slices.Contains(o.PathParams, prm) {
			o.PathParams = append(o.PathParams, prm)
		}
	}
	if len(o.Query)+len(o.Header) > 0 {
		o.ParamsType = g.ns.Exported(base + "Params")
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil && !o.WebSocket {
		hint := base + "Request"
		if op.RequestBody.Ref != "" {
			hint = refName(op.RequestBody.Ref)
		}
		o.Body = g.buildBody(op.RequestBody.Value, hint)
	}
	g.buildResponses(o, op, base)
	var sibling *ir.Operation
	if o.Mixed != nil {
		// A streamed response offered beside other success bodies (content
		// negotiation, or a query parameter choosing the form) gets a
		// method of its own, <Name>Stream, sharing the parameters.
		sib := *o
		sib.Stream, sib.Mixed = o.Mixed, nil
		sib.Successes, sib.Headers, sib.ResultType, sib.Result = nil, nil, "", ir.Result{}
		sib.Accept = o.Mixed.Media
		sib.Streaming = false
		sib.Sibling = true
		sib.GoName = methods.Exported(o.GoName + "Stream")
		g.ns.Reserve(sib.GoName)
		o.Mixed = nil
		sibling = &sib
		g.opOrigin[sibling] = g.opOrigin[o]
	}
	if ext, ok := op.Extensions["x-pagination"]; ok {
		g.pageExt[o] = ext
	}
	if op.Security != nil {
		for _, req := range *op.Security {
			for _, k := range sortedKeys(req) {
				if !slices.Contains(o.Security, k) {
					o.Security = append(o.Security, k)
				}
			}
		}
	}
	if o.WebSocket {
		if len(o.Header) > 0 {
			g.warn(op.Origin, "header parameters of the WebSocket operation %s %s are left to the caller, who sets them on the upgrade request", method, p)
		}
		g.buildStream(o, op)
	}
	g.ops = append(g.ops, o)
	if sibling != nil {
		g.ops = append(g.ops, sibling)
	}
	return nil
}

// mediaKind classifies a media type.
func mediaKind(mt string) ir.BodyKind {
	mt = strings.ToLower(strings.TrimSpace(strings.Split(mt, ";")[0]))
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return ir.BodyJSON
	case mt == "application/x-www-form-urlencoded":
		return ir.BodyForm
	case mt == "multipart/form-data":
		return ir.BodyMultipart
	case strings.HasPrefix(mt, "text/"):
		return ir.BodyText
	case strings.Contains(mt, "json"):
		return ir.BodyJSON
	}
	return ir.BodyBinary
}

// contentKind classifies the media type mt of a content map with its
// schema: a wildcard type (*/*, application/*, which Swagger 2.0 documents
// declare for every operation that produces "*/*") carrying a schema that
// is not a string or any value holds JSON, so that the body keeps its type
// instead of becoming bytes.
func contentKind(mt string, m *openapi3.MediaType) ir.BodyKind {
	k := mediaKind(mt)
	if k != ir.BodyBinary || !strings.Contains(mt, "*") || m == nil || m.Schema == nil || m.Schema.Value == nil {
		return k
	}
	s := m.Schema.Value
	if types, _ := schemaTypes(s); slices.Contains(types, "string") || isAnyJSON(s) {
		return k
	}
	return ir.BodyJSON
}

// pickMedia chooses the media type of a content map: JSON first, then form,
// multipart, text, and anything else as binary.
func pickMedia(content openapi3.Content) (string, *openapi3.MediaType) {
	keys := sortedKeys(content)
	for _, want := range []ir.BodyKind{ir.BodyJSON, ir.BodyForm, ir.BodyMultipart, ir.BodyText, ir.BodyBinary} {
		for _, k := range keys {
			if mediaKind(k) == want {
				return k, content[k]
			}
		}
	}
	return "", nil
}

func (g *gen) buildBody(rb *openapi3.RequestBody, hint string) *ir.Body {
	mt, media := pickMedia(rb.Content)
	if media == nil {
		return nil
	}
	b := &ir.Body{Kind: contentKind(mt, media), ContentType: mt, Required: rb.Required}
	switch b.Kind {
	case ir.BodyJSON:
		b.Type = g.resolve(media.Schema, hint)
	case ir.BodyForm, ir.BodyMultipart:
		b.Type = g.resolve(media.Schema, hint)
		if b.Type.Kind != ir.Named || b.Type.Named.Kind != ir.Struct {
			g.warn(originOfRef(media.Schema), "%s body that is not an object is sent as raw bytes", mt)
			b.Kind, b.Type = ir.BodyBinary, ir.Reader
		}
	case ir.BodyText:
		b.Type = ir.String
	default:
		b.Type = ir.Reader
	}
	if strings.Contains(mt, "*") {
		b.ContentType = "application/octet-stream"
		if b.Kind == ir.BodyJSON {
			b.ContentType = "application/json"
		}
	}
	return b
}

func originOfRef(r *openapi3.SchemaRef) *openapi3.Origin {
	if r == nil || r.Value == nil {
		return nil
	}
	return r.Value.Origin
}

func (g *gen) buildResponses(o *ir.Operation, op *openapi3.Operation, base string) {
	if op.Responses == nil {
		return
	}
	codes := sortedKeys(op.Responses.Map())
	var success []string
	for _, c := range codes {
		if ir.StatusClass(c) == 2 {
			success = append(success, c)
		}
	}
	g.buildSuccesses(o, op, base, success)
	for _, c := range codes {
		if ir.StatusClass(c) == 2 || ir.StatusClass(c) == 1 || ir.StatusClass(c) == 3 {
			continue
		}
		r := op.Responses.Value(c)
		if r == nil || r.Value == nil {
			continue
		}
		mt, media := pickMedia(r.Value.Content)
		if media == nil {
			continue
		}
		switch contentKind(mt, media) {
		case ir.BodyJSON:
			if media.Schema == nil {
				continue
			}
			hint := base + strings.ToUpper(c) + "Error"
			if c == "default" {
				hint = base + "DefaultError"
			}
			if r.Ref != "" {
				hint = refName(r.Ref)
			}
			o.Errors = append(o.Errors, ir.ErrorResponse{Status: c, Type: g.resolve(media.Schema, hint)})
		case ir.BodyText:
			o.TextErrors = append(o.TextErrors, c)
		}
	}
	if len(o.Errors) > 0 && !o.WebSocket {
		o.ErrorFunc = g.ns.Unexported(base + "ErrorBody")
	}
}

func (g *gen) buildAuth() {
	if g.doc.Components == nil {
		return
	}
	schemes := g.doc.Components.SecuritySchemes
	for _, k := range sortedKeys(schemes) {
		r := schemes[k]
		if r == nil || r.Value == nil {
			continue
		}
		s := r.Value
		a := &ir.AuthScheme{Key: k, Doc: s.Description}
		switch {
		case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"), s.Type == "oauth2", s.Type == "openIdConnect":
			a.Kind = "bearer"
		case s.Type == "http" && strings.EqualFold(s.Scheme, "basic"):
			a.Kind = "basic"
		case s.Type == "apiKey" && s.In == "header":
			a.Kind, a.Param = "header", s.Name
		case s.Type == "apiKey" && s.In == "query":
			a.Kind, a.Param = "query", s.Name
		default:
			g.warn(s.Origin, "security scheme %q (%s %s%s) has no option constructor", k, s.Type, s.Scheme, s.In)
			continue
		}
		a.Func = g.ns.Exported("With" + naming.ExportedName(k))
		g.auth = append(g.auth, a)
	}
}

func (g *gen) schemaByName(name string) *ir.TypeRef {
	if t, ok := g.comps[name]; ok {
		return t
	}
	return nil
}

// webSocketSpec is the x-websocket extension as written.
type webSocketSpec struct {
	TypeField    string   `json:"typeField"`
	ClientFrames []string `json:"clientFrames"`
	ServerFrames []struct {
		Name   string `json:"name"`
		Schema string `json:"schema"`
		Match  string `json:"match"`
	} `json:"serverFrames"`
}

func (g *gen) buildStream(o *ir.Operation, op *openapi3.Operation) {
	if g.stream != nil {
		g.warn(op.Origin, "only one x-websocket operation is supported; %s %s gets only its path function", o.Method, o.Path)
		return
	}
	raw, err := json.Marshal(op.Extensions["x-websocket"])
	var spec webSocketSpec
	if err == nil {
		err = json.Unmarshal(raw, &spec)
	}
	if err != nil {
		g.warn(op.Origin, "x-websocket of %s %s is malformed: %v", o.Method, o.Path, err)
		return
	}
	s := &ir.WebSocket{Op: o, TypeField: spec.TypeField}
	if s.TypeField == "" {
		s.TypeField = "type"
	}
	s.Iface = g.ns.Exported("StreamFrame")
	s.ClientIface = g.ns.Exported("StreamClientFrame")
	s.Unknown = g.ns.Exported("StreamUnknown")
	s.ErrType = g.ns.Exported("StreamFrameError")
	s.Decode = g.ns.Exported("DecodeStreamFrame")
	s.Encode = g.ns.Exported("EncodeStreamClientFrame")
	s.Marker = g.ns.Unexported("isStreamFrame")
	s.ClientMarker = g.ns.Unexported("isStreamClientFrame")
	s.Value = g.ns.Exported("StreamFrameValue")
	s.KindType = g.ns.Exported("StreamFrameKind")
	s.DecodeInto = g.ns.Exported("DecodeStreamFrameInto")
	s.KindOf = g.ns.Unexported("streamFrameKind")
	fields := naming.NewNamespace()
	fields.Reserve("Kind", "Frame")
	for _, f := range spec.ServerFrames {
		t := g.schemaByName(f.Schema)
		if t == nil {
			g.warn(op.Origin, "x-websocket server frame %q names unknown schema %q", f.Name, f.Schema)
			continue
		}
		switch f.Match {
		case "", "tagged", "untagged-object", "array":
		default:
			g.warn(op.Origin, "x-websocket server frame %q has unknown match %q; treated as tagged", f.Name, f.Match)
			f.Match = ""
		}
		s.Frames = append(s.Frames, &ir.Frame{
			Name:    f.Name,
			Match:   f.Match,
			Type:    t,
			Wrapper: g.ns.Exported("Stream" + naming.ExportedName(f.Name)),
			Kind:    g.ns.Exported("StreamFrameKind" + naming.ExportedName(f.Name)),
			Field:   fields.Exported(f.Name),
		})
	}
	s.UnknownKind = g.ns.Exported("StreamFrameKindUnknown")
	s.UnknownField = fields.Exported("Unknown")
	for _, c := range spec.ClientFrames {
		t := g.schemaByName(c)
		if t == nil {
			g.warn(op.Origin, "x-websocket client frame names unknown schema %q", c)
			continue
		}
		if t.Kind != ir.Named || t.Named.Kind == ir.Alias {
			g.warn(op.Origin, "x-websocket client frame %q is not a type of this package; left out of %s", c, s.ClientIface)
			continue
		}
		s.Clients = append(s.Clients, t)
	}
	g.stream = s
}

// checkDuplicateParams refuses a parameter list that declares one name in
// one location twice (header names compared without case): the spec forbids
// it, and no request can carry both.
func (g *gen) checkDuplicateParams(list openapi3.Parameters, method, path string) {
	seen := map[string]bool{}
	for _, pr := range list {
		if pr == nil || pr.Value == nil {
			continue
		}
		key := pr.Value.In + " " + pr.Value.Name
		if pr.Value.In == "header" {
			key = strings.ToLower(key)
		}
		if seen[key] {
			g.fail(pr.Value.Origin, "%s parameter %q is declared twice for %s%s", pr.Value.In, pr.Value.Name, method, path)
			return
		}
		seen[key] = true
	}
}
