package coretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/allsource-go/allsource/spec"
)

// specValidator checks requests and responses against spec/.
//
// A response that breaks the spec is always reported. A request that
// breaks the spec is reported when the server accepted it (2xx or a
// WebSocket upgrade): a client whose request drifted from the spec but
// still worked is the drift that would otherwise go unnoticed, while a
// request the server refused already fails visibly, and deliberate bad
// requests in tests must be able to reach the server's own validation.
type specValidator struct {
	report func(error)
	docs   map[service]*openapi3.T
	opts   *openapi3filter.Options

	framesOnce sync.Once
	frames     *frameSchemas
	framesErr  error
}

var pathParamRe = regexp.MustCompile(`\{([^}]+)\}`)

// loadSpecs loads the documents once per process: loading takes tens of
// milliseconds and tests start many servers. The documents are only read
// after loading, never modified, so sharing them is safe.
var loadSpecs = sync.OnceValues(func() (map[service]*openapi3.T, error) {
	ctx := context.Background()
	docs := make(map[service]*openapi3.T)
	for svc, name := range map[service]string{serviceCore: spec.Core, serviceQuery: spec.Query} {
		doc, err := spec.Load(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("spec validation: %w", err)
		}
		docs[svc] = doc
	}
	return docs, nil
})

func newSpecValidator(report func(error)) (*specValidator, error) {
	docs, err := loadSpecs()
	if err != nil {
		return nil, err
	}
	v := &specValidator{report: report, docs: docs}
	v.opts = &openapi3filter.Options{
		MultiError:            true,
		IncludeResponseStatus: true,
		SkipSettingDefaults:   true,
		// The server authenticates by itself, with Core's own rules.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	}
	return v, nil
}

// route finds the spec's operation for op.
func (v *specValidator) route(r *http.Request, op *operation) (*openapi3filter.RequestValidationInput, error) {
	doc := v.docs[op.svc]
	item := doc.Paths.Value(op.pattern)
	if item == nil || item.GetOperation(op.method) == nil {
		return nil, fmt.Errorf("%s %s (%s) is not in the %s spec", op.method, op.pattern, op.id, op.svc)
	}
	operation := item.GetOperation(op.method)
	if operation.OperationID != op.id {
		return nil, fmt.Errorf("%s %s: spec operationId %q, server names it %q", op.method, op.pattern, operation.OperationID, op.id)
	}
	params := make(map[string]string)
	for _, m := range pathParamRe.FindAllStringSubmatch(op.pattern, -1) {
		params[m[1]] = r.PathValue(m[1])
	}
	return &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route: &routers.Route{
			Spec: doc, Path: op.pattern, PathItem: item, Method: op.method, Operation: operation,
		},
		Options: v.opts,
	}, nil
}

// checkRequest validates r, whose body is body, and returns the violation
// to report if the server accepts the request.
func (v *specValidator) checkRequest(r *http.Request, op *operation, body []byte) error {
	in, err := v.route(r, op)
	if err != nil {
		v.report(err)
		return nil
	}
	r.Body = newBufferedBody(body)
	defer func() { r.Body = newBufferedBody(body) }()
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return fmt.Errorf("%s request %s %s: %w", op.id, r.Method, r.URL.RequestURI(), err)
	}
	return nil
}

// documents reports whether the spec documents status for op.
func (v *specValidator) documents(op *operation, status int) bool {
	item := v.docs[op.svc].Paths.Value(op.pattern)
	if item == nil || item.GetOperation(op.method) == nil {
		return false
	}
	return item.GetOperation(op.method).Responses.Status(status) != nil
}

// checkResponse validates the recorded response to r and reports a
// violation.
func (v *specValidator) checkResponse(r *http.Request, op *operation, body []byte, rec *recorder) {
	in, err := v.route(r, op)
	if err != nil {
		return // reported by checkRequest
	}
	r.Body = newBufferedBody(body)
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.status,
		Header:                 rec.header,
		Options:                v.opts,
	}
	out.SetBodyBytes(rec.body.Bytes())
	if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
		v.report(fmt.Errorf("%s response %d to %s %s: %w (body %.300s)", op.id, rec.status, r.Method, r.URL.RequestURI(), err, rec.body.Bytes()))
	}
}

// frameSchemas are the schemas of the stream's frames, from the
// x-websocket extension of the streamEvents operation.
type frameSchemas struct {
	client    []*openapi3.Schema // frames a client may send
	typeField string
	tagged    map[string]*openapi3.Schema
	untagged  *openapi3.Schema // object without the type field
	array     *openapi3.Schema // JSON array frame
}

// streamFrames reads x-websocket from the Core document.
func (v *specValidator) streamFrames() (*frameSchemas, error) {
	doc := v.docs[serviceCore]
	item := doc.Paths.Value("/api/v1/events/stream")
	if item == nil || item.Get == nil {
		return nil, fmt.Errorf("spec: no GET /api/v1/events/stream")
	}
	raw, ok := item.Get.Extensions["x-websocket"]
	if !ok {
		return nil, fmt.Errorf("spec: streamEvents has no x-websocket")
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("spec: x-websocket: %w", err)
	}
	var ext struct {
		TypeField    string   `json:"typeField"`
		ClientFrames []string `json:"clientFrames"`
		ServerFrames []struct {
			Name, Schema, Match string
		} `json:"serverFrames"`
	}
	if err := json.Unmarshal(b, &ext); err != nil {
		return nil, fmt.Errorf("spec: x-websocket: %w", err)
	}
	fs := &frameSchemas{typeField: ext.TypeField, tagged: make(map[string]*openapi3.Schema)}
	for _, name := range ext.ClientFrames {
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("spec: x-websocket client frame: no schema %s", name)
		}
		fs.client = append(fs.client, ref.Value)
	}
	for _, f := range ext.ServerFrames {
		ref := doc.Components.Schemas[f.Schema]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("spec: x-websocket frame %s: no schema %s", f.Name, f.Schema)
		}
		switch f.Match {
		case "untagged-object":
			fs.untagged = ref.Value
		case "array":
			fs.array = ref.Value
		default:
			fs.tagged[f.Name] = ref.Value
		}
	}
	return fs, nil
}

// loadFrames reads the frame schemas once, reporting a failure.
func (v *specValidator) loadFrames() bool {
	v.framesOnce.Do(func() { v.frames, v.framesErr = v.streamFrames() })
	if v.framesErr != nil {
		v.report(v.framesErr)
		return false
	}
	return true
}

// checkClientFrame validates a frame a client sent and reports it when it
// matches none of the client frames of x-websocket.
func (v *specValidator) checkClientFrame(data []byte) {
	if !v.loadFrames() {
		return
	}
	var val any
	if err := json.Unmarshal(data, &val); err != nil {
		v.report(fmt.Errorf("client stream frame %.200s is not JSON: %w", data, err))
		return
	}
	var errs []error
	for _, schema := range v.frames.client {
		err := schema.VisitJSON(val, openapi3.MultiErrors())
		if err == nil {
			return
		}
		errs = append(errs, err)
	}
	v.report(fmt.Errorf("client stream frame %.200s matches no client frame of x-websocket: %w", data, errors.Join(errs...)))
}

// checkFrame validates one server frame and reports a violation.
func (v *specValidator) checkFrame(data []byte) {
	if !v.loadFrames() {
		return
	}
	var val any
	if err := json.Unmarshal(data, &val); err != nil {
		v.report(fmt.Errorf("stream frame %.200s is not JSON: %w", data, err))
		return
	}
	var schema *openapi3.Schema
	kind := ""
	switch x := val.(type) {
	case []any:
		schema, kind = v.frames.array, "array"
	case map[string]any:
		if tag, ok := x[v.frames.typeField].(string); ok {
			schema, kind = v.frames.tagged[tag], tag
		} else {
			schema, kind = v.frames.untagged, "untagged object"
		}
	}
	if schema == nil {
		v.report(fmt.Errorf("stream frame %.200s matches no frame of x-websocket", data))
		return
	}
	if err := schema.VisitJSON(val, openapi3.MultiErrors()); err != nil {
		v.report(fmt.Errorf("stream frame (%s) %.300s: %w", kind, data, err))
	}
}
