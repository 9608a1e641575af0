package generator

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/getkin/kin-openapi/openapi3"
)

// streamKind is the framing of a streamed response body.
type streamKind int

const (
	streamNone    streamKind = iota
	streamSSE                // text/event-stream
	streamJSONL              // application/jsonl, application/x-ndjson
	streamJSONSeq            // application/json-seq (RFC 7464)
)

// streamMedia classifies a media type as a stream framing.
func streamMedia(mt string) streamKind {
	switch strings.ToLower(strings.TrimSpace(strings.Split(mt, ";")[0])) {
	case "text/event-stream":
		return streamSSE
	case "application/jsonl", "application/x-ndjson", "application/x-jsonlines", "application/jsonlines":
		return streamJSONL
	case "application/json-seq":
		return streamJSONSeq
	}
	return streamNone
}

// success is one documented 2xx response.
type success struct {
	status  string // "200", "2XX"
	kind    bodyKind
	typ     *typeRef
	field   string // the result struct field of its body, "" for none
	headers []successHeader
}

// successHeader is a header documented on one success response.
type successHeader struct {
	h        *respHeader
	required bool
}

// respHeader is a documented header of the success responses, a field of
// the result struct.
type respHeader struct {
	name   string // as on the wire
	goName string
	typ    *typeRef
	doc    string
	always bool // every success status documents it as required: no Opt
}

// itemStream is a streamed success response: its items are ranged over.
type itemStream struct {
	kind     streamKind
	media    string
	item     *typeRef // schema of an item (of the data of an SSE event); nil: raw
	events   []*sseEvent
	itemType string // the Go type the iterator yields
}

// sseEvent is an SSE event name the document maps to a schema.
type sseEvent struct {
	name  string
	field string
	typ   *typeRef
}

// shapeKey identifies the Go shape of a success body, to tell statuses apart.
func shapeKey(kind bodyKind, t *typeRef) string {
	if t == nil {
		return fmt.Sprint(kind)
	}
	return fmt.Sprintf("%d:%s", kind, typeKey(t))
}

// typeKey renders t as a comparable key.
func typeKey(t *typeRef) string {
	switch t.kind {
	case tSlice:
		return "[]" + typeKey(t.elem)
	case tMap:
		return "map:" + typeKey(t.elem)
	case tNull:
		return "null:" + typeKey(t.elem)
	}
	return t.pkg + "." + t.name
}

// buildSuccesses reads the 2xx responses of op: their bodies, their headers,
// and whether the method returns a result struct, a stream or the body alone.
func (g *gen) buildSuccesses(o *operation, op *openapi3.Operation, base string, codes []string) {
	o.streaming = extBool(op.Extensions, "x-streaming")
	var media []string
	headers := map[string]*respHeader{}
	var headerOrder []string
	schemas := map[*success]*openapi3.SchemaRef{} // the schema of a JSON body
	for _, c := range codes {
		r := op.Responses.Value(c)
		if r == nil || r.Value == nil {
			continue
		}
		s := &success{status: c}
		content := r.Value.Content
		if sk, mt, mtv := pickStream(content); sk != streamNone {
			if o.stream == nil && o.mixed == nil {
				st := g.buildItemStream(o, sk, mt, mtv, base)
				if len(content) == 1 {
					o.stream = st
				} else {
					o.mixed = st
				}
			}
			if len(content) == 1 {
				if !slices.Contains(media, mt) {
					media = append(media, mt)
				}
				continue
			}
			content = maps.Clone(content)
			delete(content, mt)
		}
		for _, mt := range sortedKeys(content) {
			if !slices.Contains(media, mt) {
				media = append(media, mt)
			}
		}
		if mt, m := pickMedia(content); m != nil {
			s.kind = contentKind(mt, m)
			switch s.kind {
			case bodyJSON:
				s.typ = g.resolve(m.Schema, base+"Response")
				schemas[s] = m.Schema
			case bodyText:
				s.typ = tString
			default:
				s.kind, s.typ = bodyBinary, tBytes
			}
		}
		for _, hn := range sortedKeys(r.Value.Headers) {
			hr := r.Value.Headers[hn]
			if hr == nil || hr.Value == nil || strings.EqualFold(hn, "Content-Type") {
				continue
			}
			key := http.CanonicalHeaderKey(hn)
			h, ok := headers[key]
			if !ok {
				schema := hr.Value.Schema
				if schema == nil {
					for _, k := range sortedKeys(hr.Value.Content) {
						if ct := hr.Value.Content[k]; ct != nil && ct.Schema != nil {
							schema = ct.Schema
							break
						}
					}
				}
				t := tString
				if schema != nil {
					t = g.resolve(schema, base+naming.ExportedName(hn))
				}
				if !headerParsable(t) {
					g.warn(hr.Value.Origin, "header %s of %s %s has a schema with no text form; it is read as a string", hn, o.method, o.path)
					t = tString
				}
				h = &respHeader{name: hn, typ: t, doc: withDeprecated(hr.Value.Description, hr.Value.Deprecated), always: true}
				headers[key] = h
				headerOrder = append(headerOrder, key)
			}
			s.headers = append(s.headers, successHeader{h: h, required: hr.Value.Required})
		}
		o.successes = append(o.successes, s)
	}
	if o.stream != nil {
		if len(headers) > 0 {
			g.warn(op.Origin, "%s %s: the headers of a streamed response are not read", o.method, o.path)
		}
		o.accept = o.stream.media
		o.successes = nil
		return
	}
	// The Accept header lists the documented types, unless JSON alone.
	if len(media) > 0 && !(len(media) == 1 && strings.EqualFold(media[0], "application/json")) {
		o.accept = strings.Join(media, ", ")
	}
	shapes := map[string]bool{}
	bodied := map[string]bool{}
	for _, s := range o.successes {
		shapes[shapeKey(s.kind, s.typ)] = true
		if s.kind != bodyNone {
			bodied[shapeKey(s.kind, s.typ)] = true
		}
	}
	for _, s := range o.successes {
		if o.result.kind == bodyNone && s.kind != bodyNone {
			o.result = result{kind: s.kind, status: s.status, typ: s.typ}
			g.resultSchema[o] = schemas[s]
		}
	}
	if o.result.kind == bodyNone && len(o.successes) > 0 {
		o.result.status = o.successes[0].status
	}
	if len(headers) == 0 && len(shapes) <= 1 {
		if o.streaming && o.result.kind != bodyText && o.result.kind != bodyBinary {
			g.warn(op.Origin, "%s %s: x-streaming applies to binary and text responses only", o.method, o.path)
			o.streaming = false
		}
		return
	}
	if o.streaming {
		g.warn(op.Origin, "%s %s: x-streaming applies to an operation with one success response and no documented headers", o.method, o.path)
		o.streaming = false
	}
	// A result struct: which status came, its body, its headers.
	o.resultType = g.ns.Exported(base + "Result")
	fields := naming.NewNamespace()
	fields.Reserve("StatusCode")
	for _, s := range o.successes {
		if s.kind == bodyNone {
			continue
		}
		if len(bodied) == 1 {
			s.field = "Body"
			fields.Reserve("Body")
			continue
		}
		name := http.StatusText(atoi(s.status))
		if name == "" {
			name = "Status " + s.status
		}
		s.field = fields.Exported(name)
	}
	for _, key := range headerOrder {
		h := headers[key]
		h.goName = fields.Exported(h.name)
		for _, s := range o.successes {
			i := slices.IndexFunc(s.headers, func(sh successHeader) bool { return sh.h == h })
			if i < 0 || !s.headers[i].required {
				h.always = false
			}
		}
		o.headers = append(o.headers, h)
	}
}

// pickStream returns the streamed media type of a content map, if any.
func pickStream(content openapi3.Content) (streamKind, string, *openapi3.MediaType) {
	for _, k := range sortedKeys(content) {
		if sk := streamMedia(k); sk != streamNone {
			return sk, k, content[k]
		}
	}
	return streamNone, "", nil
}

// headerParsable reports whether a header of type t can be read from text.
func headerParsable(t *typeRef) bool {
	switch t.kind {
	case tBasic:
		switch t.name {
		case "string", "int64", "int32", "int", "float64", "float32", "bool":
			return true
		}
	case tQual:
		return t.pkg == "time" && t.name == "Time"
	case tSlice:
		return t.elem.kind != tSlice && !(t.elem.kind == tBasic && t.elem.name == "byte") && headerParsable(t.elem)
	case tNamed:
		switch t.named.kind {
		case ntEnum:
			return true
		case ntDef, ntAlias:
			return t.named.under != nil && t.named.under.kind != tSlice && headerParsable(t.named.under)
		}
	}
	return false
}

// buildItemStream reads the item schema of a streamed response: OpenAPI
// 3.2's itemSchema, or the x-item-schema extension of the media type on
// earlier versions; for SSE, the x-sse-events extension maps event names
// to the schemas of their data.
func (g *gen) buildItemStream(o *operation, sk streamKind, mt string, m *openapi3.MediaType, base string) *itemStream {
	s := &itemStream{kind: sk, media: mt}
	if m == nil {
		return s
	}
	schema := m.ItemSchema
	if schema == nil {
		schema = g.extSchema(o, m.Extensions["x-item-schema"], "x-item-schema")
	}
	if schema != nil {
		s.item = g.resolve(schema, base+"Item")
	}
	if raw, ok := m.Extensions["x-sse-events"]; ok {
		if sk != streamSSE {
			g.warn(g.opOrigin[o], "%s %s: x-sse-events applies to text/event-stream only", o.method, o.path)
		} else {
			var names map[string]json.RawMessage
			data, err := json.Marshal(raw)
			if err == nil {
				err = json.Unmarshal(data, &names)
			}
			if err != nil {
				g.warn(g.opOrigin[o], "%s %s: x-sse-events is malformed: %v", o.method, o.path, err)
			}
			fields := naming.NewNamespace()
			fields.Reserve("Type", "ID", "Retry", "Data", "Raw")
			for _, name := range sortedKeys(names) {
				sch := g.extSchema(o, names[name], "x-sse-events")
				if sch == nil {
					continue
				}
				s.events = append(s.events, &sseEvent{name: name, field: fields.Exported(name), typ: g.resolve(sch, base+naming.ExportedName(name)+"Event")})
			}
		}
	}
	if sk == streamSSE {
		s.itemType = g.ns.Exported(base + "Event")
		g.ns.Reserve("decode" + s.itemType)
	} else if s.item == nil {
		s.item = tRaw
	}
	return s
}

// extSchema reads a schema given in an extension: a $ref to a component
// schema, or an inline schema without references.
func (g *gen) extSchema(o *operation, v any, ext string) *openapi3.SchemaRef {
	if v == nil {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		g.warn(g.opOrigin[o], "%s %s: %s is malformed: %v", o.method, o.path, ext, err)
		return nil
	}
	var ref struct {
		Ref string `json:"$ref"`
	}
	if json.Unmarshal(data, &ref) == nil && ref.Ref != "" {
		name := refName(ref.Ref)
		if g.doc.Components != nil {
			if sr := g.doc.Components.Schemas[name]; sr != nil {
				return &openapi3.SchemaRef{Ref: ref.Ref, Value: sr.Value}
			}
		}
		g.warn(g.opOrigin[o], "%s %s: %s names unknown schema %q", o.method, o.path, ext, ref.Ref)
		return nil
	}
	s := &openapi3.Schema{}
	if err := json.Unmarshal(data, s); err != nil {
		g.warn(g.opOrigin[o], "%s %s: %s is not a schema: %v", o.method, o.path, ext, err)
		return nil
	}
	return &openapi3.SchemaRef{Value: s}
}
