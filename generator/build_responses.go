package generator

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/getkin/kin-openapi/openapi3"
)

// streamMedia classifies a media type as a stream framing.
func streamMedia(mt string) ir.StreamKind {
	switch strings.ToLower(strings.TrimSpace(strings.Split(mt, ";")[0])) {
	case "text/event-stream":
		return ir.StreamSSE
	case "application/jsonl", "application/x-ndjson", "application/x-jsonlines", "application/jsonlines":
		return ir.StreamJSONL
	case "application/json-seq":
		return ir.StreamJSONSeq
	}
	return ir.StreamNone
}

// shapeKey identifies the Go shape of a success body, to tell statuses apart.
func shapeKey(kind ir.BodyKind, t *ir.TypeRef) string {
	if t == nil {
		return fmt.Sprint(kind)
	}
	return fmt.Sprintf("%d:%s", kind, typeKey(t))
}

// typeKey renders t as a comparable key.
func typeKey(t *ir.TypeRef) string {
	switch t.Kind {
	case ir.Slice:
		return "[]" + typeKey(t.Elem)
	case ir.Map:
		return "map:" + typeKey(t.Elem)
	case ir.Null:
		return "null:" + typeKey(t.Elem)
	}
	return t.Pkg + "." + t.Name
}

// buildSuccesses reads the 2xx responses of op: their bodies, their headers,
// and whether the method returns a result struct, a stream or the body alone.
func (g *gen) buildSuccesses(o *ir.Operation, op *openapi3.Operation, base string, codes []string) {
	o.Streaming = extBool(op.Extensions, "x-streaming")
	var media []string
	headers := map[string]*ir.Header{}
	var headerOrder []string
	schemas := map[*ir.Success]*openapi3.SchemaRef{} // the schema of a JSON body
	for _, c := range codes {
		r := op.Responses.Value(c)
		if r == nil || r.Value == nil {
			continue
		}
		s := &ir.Success{Status: c}
		content := r.Value.Content
		if sk, mt, mtv := pickStream(content); sk != ir.StreamNone {
			if o.Stream == nil && o.Mixed == nil {
				st := g.buildItemStream(o, sk, mt, mtv, base)
				if len(content) == 1 {
					o.Stream = st
				} else {
					o.Mixed = st
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
			s.Kind = contentKind(mt, m)
			switch s.Kind {
			case ir.BodyJSON:
				s.Type = g.resolve(m.Schema, base+"Response")
				schemas[s] = m.Schema
			case ir.BodyText:
				s.Type = ir.String
			default:
				s.Kind, s.Type = ir.BodyBinary, ir.Bytes
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
				t := ir.String
				if schema != nil {
					t = g.resolve(schema, base+naming.ExportedName(hn))
				}
				if !headerParsable(t) {
					g.warn(hr.Value.Origin, "header %s of %s %s has a schema with no text form; it is read as a string", hn, o.Method, o.Path)
					t = ir.String
				}
				h = &ir.Header{Name: hn, Type: t, Doc: withDeprecated(hr.Value.Description, hr.Value.Deprecated), Always: true}
				headers[key] = h
				headerOrder = append(headerOrder, key)
			}
			s.Headers = append(s.Headers, ir.SuccessHeader{Header: h, Required: hr.Value.Required})
		}
		o.Successes = append(o.Successes, s)
	}
	if o.Stream != nil {
		if len(headers) > 0 {
			g.warn(op.Origin, "%s %s: the headers of a streamed response are not read", o.Method, o.Path)
		}
		o.Accept = o.Stream.Media
		o.Successes = nil
		return
	}
	// The Accept header lists the documented types, unless JSON alone.
	if len(media) > 0 && !(len(media) == 1 && strings.EqualFold(media[0], "application/json")) {
		o.Accept = strings.Join(media, ", ")
	}
	shapes := map[string]bool{}
	bodied := map[string]bool{}
	for _, s := range o.Successes {
		shapes[shapeKey(s.Kind, s.Type)] = true
		if s.Kind != ir.BodyNone {
			bodied[shapeKey(s.Kind, s.Type)] = true
		}
	}
	for _, s := range o.Successes {
		if o.Result.Kind == ir.BodyNone && s.Kind != ir.BodyNone {
			o.Result = ir.Result{Kind: s.Kind, Status: s.Status, Type: s.Type}
			g.resultSchema[o] = schemas[s]
		}
	}
	if o.Result.Kind == ir.BodyNone && len(o.Successes) > 0 {
		o.Result.Status = o.Successes[0].Status
	}
	if len(headers) == 0 && len(shapes) <= 1 {
		if o.Streaming && o.Result.Kind != ir.BodyText && o.Result.Kind != ir.BodyBinary {
			g.warn(op.Origin, "%s %s: x-streaming applies to binary and text responses only", o.Method, o.Path)
			o.Streaming = false
		}
		return
	}
	if o.Streaming {
		g.warn(op.Origin, "%s %s: x-streaming applies to an operation with one success response and no documented headers", o.Method, o.Path)
		o.Streaming = false
	}
	// A result struct: which status came, its body, its headers.
	o.ResultType = g.ns.Exported(base + "Result")
	fields := naming.NewNamespace()
	fields.Reserve("StatusCode")
	for _, s := range o.Successes {
		if s.Kind == ir.BodyNone {
			continue
		}
		if len(bodied) == 1 {
			s.Field = "Body"
			fields.Reserve("Body")
			continue
		}
		name := http.StatusText(ir.StatusCode(s.Status))
		if name == "" {
			name = "Status " + s.Status
		}
		s.Field = fields.Exported(name)
	}
	for _, key := range headerOrder {
		h := headers[key]
		h.GoName = fields.Exported(h.Name)
		for _, s := range o.Successes {
			i := slices.IndexFunc(s.Headers, func(sh ir.SuccessHeader) bool { return sh.Header == h })
			if i < 0 || !s.Headers[i].Required {
				h.Always = false
			}
		}
		o.Headers = append(o.Headers, h)
	}
}

// pickStream returns the streamed media type of a content map, if any.
func pickStream(content openapi3.Content) (ir.StreamKind, string, *openapi3.MediaType) {
	for _, k := range sortedKeys(content) {
		if sk := streamMedia(k); sk != ir.StreamNone {
			return sk, k, content[k]
		}
	}
	return ir.StreamNone, "", nil
}

// headerParsable reports whether a header of type t can be read from text.
func headerParsable(t *ir.TypeRef) bool {
	switch t.Kind {
	case ir.Basic:
		switch t.Name {
		case "string", "int64", "int32", "int", "float64", "float32", "bool":
			return true
		}
	case ir.Qual:
		return t.Pkg == "time" && t.Name == "Time"
	case ir.Slice:
		return t.Elem.Kind != ir.Slice && !(t.Elem.Kind == ir.Basic && t.Elem.Name == "byte") && headerParsable(t.Elem)
	case ir.Named:
		switch t.Named.Kind {
		case ir.Enum:
			return true
		case ir.Def, ir.Alias:
			return t.Named.Under != nil && t.Named.Under.Kind != ir.Slice && headerParsable(t.Named.Under)
		}
	}
	return false
}

// buildItemStream reads the item schema of a streamed response: OpenAPI
// 3.2's itemSchema, or the x-item-schema extension of the media type on
// earlier versions; for SSE, the x-sse-events extension maps event names
// to the schemas of their data.
func (g *gen) buildItemStream(o *ir.Operation, sk ir.StreamKind, mt string, m *openapi3.MediaType, base string) *ir.Stream {
	s := &ir.Stream{Kind: sk, Media: mt}
	if m == nil {
		return s
	}
	schema := m.ItemSchema
	if schema == nil {
		schema = g.extSchema(o, m.Extensions["x-item-schema"], "x-item-schema")
	}
	if schema != nil {
		s.Item = g.resolve(schema, base+"Item")
	}
	if raw, ok := m.Extensions["x-sse-events"]; ok {
		if sk != ir.StreamSSE {
			g.warn(g.opOrigin[o], "%s %s: x-sse-events applies to text/event-stream only", o.Method, o.Path)
		} else {
			var names map[string]json.RawMessage
			data, err := json.Marshal(raw)
			if err == nil {
				err = json.Unmarshal(data, &names)
			}
			if err != nil {
				g.warn(g.opOrigin[o], "%s %s: x-sse-events is malformed: %v", o.Method, o.Path, err)
			}
			fields := naming.NewNamespace()
			fields.Reserve("Type", "ID", "Retry", "Data", "Raw")
			for _, name := range sortedKeys(names) {
				sch := g.extSchema(o, names[name], "x-sse-events")
				if sch == nil {
					continue
				}
				s.Events = append(s.Events, &ir.Event{Name: name, Field: fields.Exported(name), Type: g.resolve(sch, base+naming.ExportedName(name)+"Event")})
			}
		}
	}
	if sk == ir.StreamSSE {
		s.ItemType = g.ns.Exported(base + "Event")
		g.ns.Reserve("decode" + s.ItemType)
	} else if s.Item == nil {
		s.Item = ir.RawJSON
	}
	return s
}

// extSchema reads a schema given in an extension: a $ref to a component
// schema, or an inline schema without references.
func (g *gen) extSchema(o *ir.Operation, v any, ext string) *openapi3.SchemaRef {
	if v == nil {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		g.warn(g.opOrigin[o], "%s %s: %s is malformed: %v", o.Method, o.Path, ext, err)
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
		g.warn(g.opOrigin[o], "%s %s: %s names unknown schema %q", o.Method, o.Path, ext, ref.Ref)
		return nil
	}
	s := &openapi3.Schema{}
	if err := json.Unmarshal(data, s); err != nil {
		g.warn(g.opOrigin[o], "%s %s: %s is not a schema: %v", o.Method, o.Path, ext, err)
		return nil
	}
	return &openapi3.SchemaRef{Value: s}
}
