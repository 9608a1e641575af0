package generator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/getkin/kin-openapi/openapi3"
)

// bodyKind is how a request or response body is encoded.
type bodyKind int

const (
	bodyNone bodyKind = iota
	bodyJSON
	bodyForm
	bodyMultipart
	bodyBinary
	bodyText
)

// param is an operation parameter.
type param struct {
	name     string // as in the spec
	goName   string // field of the params struct, or argument name for path parameters
	in       string
	style    string
	explode  bool
	required bool
	typ      *typeRef
	doc      string
	segments bool // x-path-segments: a path of several segments, each escaped
}

// body is a request body.
type body struct {
	kind        bodyKind
	contentType string
	typ         *typeRef
	required    bool
}

// result is the success response.
type result struct {
	kind   bodyKind
	status string
	typ    *typeRef
}

// errResp is a documented error response with a JSON schema.
type errResp struct {
	status string // "404", "4XX" or "default"
	typ    *typeRef
}

// operation is one API operation.
type operation struct {
	id          string
	goName      string
	method      string
	path        string
	summary     string
	description string
	tag         string
	deprecated  bool
	retrySafe   bool
	pathParams  []*param
	query       []*param
	header      []*param
	paramsType  string
	body        *body
	result      result
	errors      []errResp
	errorFunc   string // name of the ErrorBody function, if any
	textErrors  []string
	security    []string
	websocket   bool
	paginate    *pagination   // what it says, once read
	allName     string        // the iterator method of a paginated operation
	pageBody    string        // the result struct's field holding a page, if any
	successes   []*success    // the documented 2xx responses
	headers     []*respHeader // documented headers of the 2xx responses
	resultType  string        // the result struct, "" when the body alone is returned
	accept      string        // the Accept header, "" for application/json
	streaming   bool          // x-streaming: a binary or text body as an io.ReadCloser
	stream      *itemStream   // a streamed response ranged over, or nil
	mixed       *itemStream   // a streamed response offered beside other success bodies
	sibling     bool          // the <Name>Stream method of a mixed operation: its params and ErrorBody are the other's
}

// tReader is the type of a streamed request body.
var tReader = &typeRef{kind: tQual, pkg: "io", name: "Reader"}

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
	o := &operation{id: op.OperationID, method: method, path: p, summary: op.Summary, description: op.Description,
		deprecated: op.Deprecated}
	g.opOrigin[o] = op.Origin
	if len(op.Tags) > 0 {
		o.tag = op.Tags[0]
	}
	name := goNameExt(op.Extensions)
	if name == "" {
		name = op.OperationID
	}
	if name == "" {
		name = strings.ToLower(method) + " " + p
	}
	if _, ok := op.Extensions["x-websocket"]; ok {
		o.websocket = true
	}
	o.goName = methods.Exported(name)
	if o.websocket {
		// The stream operation has no method; its name is used for the path
		// function and the params type.
		o.goName = g.ns.Exported(o.goName + "Path")
	} else {
		g.ns.Reserve(o.goName)
	}
	base := strings.TrimSuffix(o.goName, "Path")
	if !o.websocket {
		base = o.goName
	}
	o.retrySafe = extBool(op.Extensions, "x-retry-safe")
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		o.retrySafe = true
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
	var pathByName = map[string]*param{}
	for _, pr := range params {
		pv := pr.Value
		prm := &param{name: pv.Name, in: pv.In, required: pv.Required || pv.In == "path", doc: withDeprecated(pv.Description, pv.Deprecated), style: pv.Style}
		if pv.Explode != nil {
			prm.explode = *pv.Explode
		} else {
			prm.explode = pv.In == "query" || pv.In == "cookie"
			if prm.style != "" && prm.style != "form" {
				prm.explode = false
			}
		}
		if pv.In == "path" && (prm.style == "label" || prm.style == "matrix") {
			g.warn(pv.Origin, "path parameter %q of %s %s: style %s is sent as simple", pv.Name, method, p, prm.style)
			prm.style = "simple"
		}
		if prm.style == "" {
			switch pv.In {
			case "query", "cookie":
				prm.style = "form"
			default:
				prm.style = "simple"
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
		prm.typ = g.resolve(schema, base+naming.ExportedName(pv.Name))
		goName := goNameExt(pv.Extensions)
		if goName == "" {
			goName = pv.Name
		}
		switch pv.In {
		case "path":
			prm.goName = goName
			if extBool(pv.Extensions, "x-path-segments") {
				if prm.typ.kind != tBasic || prm.typ.name != "string" {
					g.warn(pv.Origin, "path parameter %q of %s %s: x-path-segments applies to strings only", pv.Name, method, p)
				} else if o.websocket {
					g.warn(pv.Origin, "path parameter %q of %s %s: x-path-segments is not supported on a WebSocket operation", pv.Name, method, p)
				} else {
					prm.segments = true
				}
			}
			pathByName[pv.Name] = prm
		case "query":
			prm.goName = fieldNS.Exported(goName)
			o.query = append(o.query, prm)
		case "header":
			if strings.EqualFold(pv.Name, "Authorization") || strings.EqualFold(pv.Name, "Accept") {
				continue
			}
			prm.goName = fieldNS.Exported(goName)
			o.header = append(o.header, prm)
		default:
			g.warn(pv.Origin, "%s parameter %q of %s %s is not supported and is left out", pv.In, pv.Name, method, p)
		}
	}
	for _, m := range pathParamRE.FindAllStringSubmatch(p, -1) {
		prm, ok := pathByName[m[1]]
		if !ok {
			g.warn(op.Origin, "path parameter %q of %s %s is not declared; typed as string", m[1], method, p)
			prm = &param{name: m[1], goName: m[1], in: "path", required: true, typ: tString, style: "simple"}
			pathByName[m[1]] = prm
		}
		if !slices.Contains(o.pathParams, prm) {
			o.pathParams = append(o.pathParams, prm)
		}
	}
	if len(o.query)+len(o.header) > 0 {
		o.paramsType = g.ns.Exported(base + "Params")
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil && !o.websocket {
		hint := base + "Request"
		if op.RequestBody.Ref != "" {
			hint = refName(op.RequestBody.Ref)
		}
		o.body = g.buildBody(op.RequestBody.Value, hint)
	}
	g.buildResponses(o, op, base)
	var sibling *operation
	if o.mixed != nil {
		// A streamed response offered beside other success bodies (content
		// negotiation, or a query parameter choosing the form) gets a
		// method of its own, <Name>Stream, sharing the parameters.
		sib := *o
		sib.stream, sib.mixed = o.mixed, nil
		sib.successes, sib.headers, sib.resultType, sib.result = nil, nil, "", result{}
		sib.accept = o.mixed.media
		sib.streaming = false
		sib.sibling = true
		sib.goName = methods.Exported(o.goName + "Stream")
		g.ns.Reserve(sib.goName)
		o.mixed = nil
		sibling = &sib
		g.opOrigin[sibling] = g.opOrigin[o]
	}
	if ext, ok := op.Extensions["x-pagination"]; ok {
		g.pageExt[o] = ext
	}
	if op.Security != nil {
		for _, req := range *op.Security {
			for _, k := range sortedKeys(req) {
				if !slices.Contains(o.security, k) {
					o.security = append(o.security, k)
				}
			}
		}
	}
	if o.websocket {
		if len(o.header) > 0 {
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
func mediaKind(mt string) bodyKind {
	mt = strings.ToLower(strings.TrimSpace(strings.Split(mt, ";")[0]))
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return bodyJSON
	case mt == "application/x-www-form-urlencoded":
		return bodyForm
	case mt == "multipart/form-data":
		return bodyMultipart
	case strings.HasPrefix(mt, "text/"):
		return bodyText
	case strings.Contains(mt, "json"):
		return bodyJSON
	}
	return bodyBinary
}

// contentKind classifies the media type mt of a content map with its
// schema: a wildcard type (*/*, application/*, which Swagger 2.0 documents
// declare for every operation that produces "*/*") carrying a schema that
// is not a string or any value holds JSON, so that the body keeps its type
// instead of becoming bytes.
func contentKind(mt string, m *openapi3.MediaType) bodyKind {
	k := mediaKind(mt)
	if k != bodyBinary || !strings.Contains(mt, "*") || m == nil || m.Schema == nil || m.Schema.Value == nil {
		return k
	}
	s := m.Schema.Value
	if types, _ := schemaTypes(s); slices.Contains(types, "string") || isAnyJSON(s) {
		return k
	}
	return bodyJSON
}

// pickMedia chooses the media type of a content map: JSON first, then form,
// multipart, text, and anything else as binary.
func pickMedia(content openapi3.Content) (string, *openapi3.MediaType) {
	keys := sortedKeys(content)
	for _, want := range []bodyKind{bodyJSON, bodyForm, bodyMultipart, bodyText, bodyBinary} {
		for _, k := range keys {
			if mediaKind(k) == want {
				return k, content[k]
			}
		}
	}
	return "", nil
}

func (g *gen) buildBody(rb *openapi3.RequestBody, hint string) *body {
	mt, media := pickMedia(rb.Content)
	if media == nil {
		return nil
	}
	b := &body{kind: contentKind(mt, media), contentType: mt, required: rb.Required}
	switch b.kind {
	case bodyJSON:
		b.typ = g.resolve(media.Schema, hint)
	case bodyForm, bodyMultipart:
		b.typ = g.resolve(media.Schema, hint)
		if b.typ.kind != tNamed || b.typ.named.kind != ntStruct {
			g.warn(originOfRef(media.Schema), "%s body that is not an object is sent as raw bytes", mt)
			b.kind, b.typ = bodyBinary, tReader
		}
	case bodyText:
		b.typ = tString
	default:
		b.typ = tReader
	}
	if strings.Contains(mt, "*") {
		b.contentType = "application/octet-stream"
		if b.kind == bodyJSON {
			b.contentType = "application/json"
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

func statusClass(code string) int {
	if code == "default" {
		return 0
	}
	if len(code) == 3 && strings.HasSuffix(strings.ToUpper(code), "XX") {
		n, _ := strconv.Atoi(code[:1])
		return n
	}
	n, _ := strconv.Atoi(code)
	return n / 100
}

func (g *gen) buildResponses(o *operation, op *openapi3.Operation, base string) {
	if op.Responses == nil {
		return
	}
	codes := sortedKeys(op.Responses.Map())
	var success []string
	for _, c := range codes {
		if statusClass(c) == 2 {
			success = append(success, c)
		}
	}
	g.buildSuccesses(o, op, base, success)
	for _, c := range codes {
		if statusClass(c) == 2 || statusClass(c) == 1 || statusClass(c) == 3 {
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
		case bodyJSON:
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
			o.errors = append(o.errors, errResp{status: c, typ: g.resolve(media.Schema, hint)})
		case bodyText:
			o.textErrors = append(o.textErrors, c)
		}
	}
	if len(o.errors) > 0 && !o.websocket {
		o.errorFunc = g.ns.Unexported(base + "ErrorBody")
	}
}

// authScheme is a security scheme turned into an option constructor.
type authScheme struct {
	key   string
	fn    string
	kind  string // "bearer", "basic", "header", "query"
	param string
	doc   string
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
		a := &authScheme{key: k, doc: s.Description}
		switch {
		case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"), s.Type == "oauth2", s.Type == "openIdConnect":
			a.kind = "bearer"
		case s.Type == "http" && strings.EqualFold(s.Scheme, "basic"):
			a.kind = "basic"
		case s.Type == "apiKey" && s.In == "header":
			a.kind, a.param = "header", s.Name
		case s.Type == "apiKey" && s.In == "query":
			a.kind, a.param = "query", s.Name
		default:
			g.warn(s.Origin, "security scheme %q (%s %s%s) has no option constructor", k, s.Type, s.Scheme, s.In)
			continue
		}
		a.fn = g.ns.Exported("With" + naming.ExportedName(k))
		g.auth = append(g.auth, a)
	}
}

// streamSpec is the x-websocket extension of an operation.
type streamSpec struct {
	op        *operation
	typeField string // the member of a frame naming its kind

	frames       []*streamFrame
	clients      []*typeRef
	iface        string
	clientIface  string
	unknown      string
	errType      string
	decode       string
	encode       string
	marker       string
	clientMarker string
	value        string // the struct that holds any frame, for decoding in place
	kindType     string // the type of its Kind field
	decodeInto   string // the function that decodes into a value
	kindOf       string // the unexported function that tells a frame's kind
	unknownKind  string // the Kind constant of an unknown frame
	unknownField string // the field of value holding an unknown frame
}

// streamFrame is one server frame of the stream.
type streamFrame struct {
	name    string // tag value
	match   string // "", "untagged-object", "array"
	wrapper string // Go type of the variant
	typ     *typeRef
	kind    string // its Kind constant
	field   string // the field of the value type that holds it
}

func (g *gen) schemaByName(name string) *typeRef {
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

func (g *gen) buildStream(o *operation, op *openapi3.Operation) {
	if g.stream != nil {
		g.warn(op.Origin, "only one x-websocket operation is supported; %s %s gets only its path function", o.method, o.path)
		return
	}
	raw, err := json.Marshal(op.Extensions["x-websocket"])
	var spec webSocketSpec
	if err == nil {
		err = json.Unmarshal(raw, &spec)
	}
	if err != nil {
		g.warn(op.Origin, "x-websocket of %s %s is malformed: %v", o.method, o.path, err)
		return
	}
	s := &streamSpec{op: o, typeField: spec.TypeField}
	if s.typeField == "" {
		s.typeField = "type"
	}
	s.iface = g.ns.Exported("StreamFrame")
	s.clientIface = g.ns.Exported("StreamClientFrame")
	s.unknown = g.ns.Exported("StreamUnknown")
	s.errType = g.ns.Exported("StreamFrameError")
	s.decode = g.ns.Exported("DecodeStreamFrame")
	s.encode = g.ns.Exported("EncodeStreamClientFrame")
	s.marker = g.ns.Unexported("isStreamFrame")
	s.clientMarker = g.ns.Unexported("isStreamClientFrame")
	s.value = g.ns.Exported("StreamFrameValue")
	s.kindType = g.ns.Exported("StreamFrameKind")
	s.decodeInto = g.ns.Exported("DecodeStreamFrameInto")
	s.kindOf = g.ns.Unexported("streamFrameKind")
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
		s.frames = append(s.frames, &streamFrame{
			name:    f.Name,
			match:   f.Match,
			typ:     t,
			wrapper: g.ns.Exported("Stream" + naming.ExportedName(f.Name)),
			kind:    g.ns.Exported("StreamFrameKind" + naming.ExportedName(f.Name)),
			field:   fields.Exported(f.Name),
		})
	}
	s.unknownKind = g.ns.Exported("StreamFrameKindUnknown")
	s.unknownField = fields.Exported("Unknown")
	for _, c := range spec.ClientFrames {
		t := g.schemaByName(c)
		if t == nil {
			g.warn(op.Origin, "x-websocket client frame names unknown schema %q", c)
			continue
		}
		if t.kind != tNamed || t.named.kind == ntAlias {
			g.warn(op.Origin, "x-websocket client frame %q is not a type of this package; left out of %s", c, s.clientIface)
			continue
		}
		s.clients = append(s.clients, t)
	}
	g.stream = s
}

func (o *operation) String() string { return fmt.Sprintf("%s %s", o.method, o.path) }

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
