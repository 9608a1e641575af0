package spec

import (
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// operation names one operation of a document.
type operation struct {
	method, path, id string
}

// coreOperations is every operation the SDK needs from Core.
var coreOperations = []operation{
	{http.MethodGet, "/health", "health"},
	{http.MethodPost, "/api/v1/events", "ingestEvent"},
	{http.MethodPost, "/api/v1/events/batch", "ingestEvents"},
	{http.MethodGet, "/api/v1/events/query", "queryEvents"},
	{http.MethodGet, "/api/v1/events/stream", "streamEvents"},
	{http.MethodGet, "/api/v1/events/{event_id}", "getEvent"},
	{http.MethodGet, "/api/v1/entities", "listEntities"},
	{http.MethodGet, "/api/v1/entities/duplicates", "detectDuplicates"},
	{http.MethodGet, "/api/v1/entities/{entity_id}/state", "getEntityState"},
	{http.MethodGet, "/api/v1/entities/{entity_id}/snapshot", "getEntitySnapshot"},
	{http.MethodGet, "/api/v1/stats", "getStats"},
	{http.MethodGet, "/api/v1/streams", "listStreams"},
	{http.MethodGet, "/api/v1/event-types", "listEventTypes"},
	{http.MethodGet, "/api/v1/projections", "listProjections"},
	{http.MethodGet, "/api/v1/projections/{name}", "getProjection"},
	{http.MethodDelete, "/api/v1/projections/{name}", "deleteProjection"},
	{http.MethodGet, "/api/v1/projections/{name}/state", "getProjectionStateSummary"},
	{http.MethodPost, "/api/v1/projections/{name}/reset", "resetProjection"},
	{http.MethodPost, "/api/v1/projections/{name}/pause", "pauseProjection"},
	{http.MethodPost, "/api/v1/projections/{name}/start", "startProjection"},
	{http.MethodGet, "/api/v1/projections/{name}/{entity_id}/state", "getProjectionEntityState"},
	{http.MethodPut, "/api/v1/projections/{name}/{entity_id}/state", "putProjectionEntityState"},
	{http.MethodPost, "/api/v1/projections/{name}/{entity_id}/state", "saveProjectionEntityState"},
	{http.MethodPost, "/api/v1/projections/{name}/bulk", "bulkGetProjectionStates"},
	{http.MethodPost, "/api/v1/projections/{name}/bulk/save", "bulkSaveProjectionStates"},
	{http.MethodPost, "/api/v1/consumers", "registerConsumer"},
	{http.MethodGet, "/api/v1/consumers/{consumer_id}", "getConsumer"},
	{http.MethodGet, "/api/v1/consumers/{consumer_id}/events", "pollConsumerEvents"},
	{http.MethodPost, "/api/v1/consumers/{consumer_id}/ack", "ackConsumer"},
}

// queryOperations is every operation the Query Service serves for the SDK.
var queryOperations = []operation{
	{http.MethodGet, "/health", "health"},
	{http.MethodGet, "/api/v1/events/query", "queryEvents"},
}

// coreRetrySafe is the set of non-idempotent Core operations marked x-retry-safe.
var coreRetrySafe = []string{
	"ackConsumer",
	"bulkGetProjectionStates",
	"bulkSaveProjectionStates",
	"pauseProjection",
	"registerConsumer",
	"resetProjection",
	"saveProjectionEntityState",
	"startProjection",
}

// allowedTags are the tags an operation may carry.
var allowedTags = []string{"health", "events", "entities", "projections", "consumers", "stream"}

// exampleOptions validate examples strictly: every error reported, and the
// uuid format checked too (kin-openapi checks date-time by default).
var exampleOptions = []openapi3.SchemaValidationOption{
	openapi3.MultiErrors(),
	openapi3.EnableFormatValidation(),
	openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
}

// validated loads and validates a document, failing the test on any error.
func validated(t *testing.T, name string) *openapi3.T {
	t.Helper()
	doc, err := Validate(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// operations lists a document's operations in a stable order.
func operations(doc *openapi3.T) []operation {
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, operation{method, path, op.OperationID})
		}
	}
	slices.SortFunc(ops, compareOperations)
	return ops
}

func compareOperations(a, b operation) int {
	if c := strings.Compare(a.path, b.path); c != 0 {
		return c
	}
	return strings.Compare(a.method, b.method)
}

// operationByID returns the operation with the given id and its path.
func operationByID(t *testing.T, doc *openapi3.T, id string) (string, *openapi3.Operation) {
	t.Helper()
	for path, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID == id {
				return path, op
			}
		}
	}
	t.Fatalf("no operation %q", id)
	return "", nil
}

func TestDocumentsValidate(t *testing.T) {
	for _, name := range []string{Common, Core, Query, DurableStreams} {
		t.Run(name, func(t *testing.T) {
			doc := validated(t, name)
			if doc.OpenAPI != "3.0.3" {
				t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
			}
			data, err := fs.ReadFile(FS(), name)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), "# OpenAPI 3.0.3, not 3.1:") {
				t.Error("document does not open with the comment explaining its OpenAPI version")
			}
		})
	}
}

func TestCoreOperationsComplete(t *testing.T) {
	checkOperations(t, validated(t, Core), coreOperations)
}

func TestQueryOperationsComplete(t *testing.T) {
	checkOperations(t, validated(t, Query), queryOperations)
}

// checkOperations asserts that doc has exactly the operations in want, each
// with one allowed tag and a summary.
func checkOperations(t *testing.T, doc *openapi3.T, want []operation) {
	t.Helper()
	want = slices.Clone(want)
	slices.SortFunc(want, compareOperations)
	got := operations(doc)
	for _, op := range want {
		if !slices.Contains(got, op) {
			t.Errorf("missing operation %s %s %s", op.method, op.path, op.id)
		}
	}
	for _, op := range got {
		if !slices.Contains(want, op) {
			t.Errorf("unexpected operation %s %s %s", op.method, op.path, op.id)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if len(op.Tags) != 1 || !slices.Contains(allowedTags, op.Tags[0]) {
				t.Errorf("%s: tags %v, want one of %v", op.OperationID, op.Tags, allowedTags)
			}
			if op.Summary == "" {
				t.Errorf("%s: no summary", op.OperationID)
			}
		}
	}
}

func TestRetrySafe(t *testing.T) {
	for name, want := range map[string][]string{Core: coreRetrySafe, Query: nil} {
		doc := validated(t, name)
		var got []string
		for _, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				v, ok := op.Extensions["x-retry-safe"]
				if !ok {
					continue
				}
				if v != true {
					t.Errorf("%s %s: x-retry-safe = %v, want true", name, op.OperationID, v)
				}
				if method != http.MethodPost {
					t.Errorf("%s %s: x-retry-safe on %s, which is idempotent already", name, op.OperationID, method)
				}
				got = append(got, op.OperationID)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: x-retry-safe on %v, want %v", name, got, want)
		}
	}
}

// mediaExamples returns the examples of a media type by name; "" names the
// single `example`.
func mediaExamples(mt *openapi3.MediaType) map[string]any {
	examples := map[string]any{}
	if mt.Example != nil {
		examples[""] = mt.Example
	}
	for name, ex := range mt.Examples {
		if ex != nil && ex.Value != nil {
			examples[name] = ex.Value.Value
		}
	}
	return examples
}

// checkContent asserts that every media type in content has a schema and at
// least one example, and that every example is valid against the schema.
func checkContent(t *testing.T, where string, content openapi3.Content) {
	t.Helper()
	for mime, mt := range content {
		if mt.Schema == nil || mt.Schema.Value == nil {
			t.Errorf("%s %s: no schema", where, mime)
			continue
		}
		examples := mediaExamples(mt)
		if len(examples) == 0 {
			t.Errorf("%s %s: no example", where, mime)
		}
		for name, ex := range examples {
			if err := mt.Schema.Value.VisitJSON(ex, exampleOptions...); err != nil {
				t.Errorf("%s %s example %q: %v", where, mime, name, err)
			}
			if strings.HasPrefix(mime, "text/") {
				if _, ok := ex.(string); !ok {
					t.Errorf("%s %s example %q is not a string", where, mime, name)
				}
			}
		}
	}
}

func TestEveryBodyHasValidExample(t *testing.T) {
	for _, name := range []string{Core, Query} {
		doc := validated(t, name)
		bodies := 0
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				where := name + " " + method + " " + path
				if rb := op.RequestBody; rb != nil {
					if len(rb.Value.Content) == 0 {
						t.Errorf("%s request: no content", where)
					}
					checkContent(t, where+" request", rb.Value.Content)
					bodies += len(rb.Value.Content)
				}
				for status, resp := range op.Responses.Map() {
					if status != "101" && len(resp.Value.Content) == 0 {
						t.Errorf("%s %s: response has no body", where, status)
					}
					checkContent(t, where+" "+status, resp.Value.Content)
					bodies += len(resp.Value.Content)
				}
			}
		}
		if bodies == 0 {
			t.Errorf("%s: no bodies found", name)
		}
		t.Logf("%s: %d request and response bodies checked", name, bodies)
	}
}

func TestSchemaExamplesValid(t *testing.T) {
	for _, name := range []string{Common, Core, Query} {
		doc := validated(t, name)
		for schemaName, ref := range doc.Components.Schemas {
			s := ref.Value
			if s.Example == nil {
				if ref.Ref == "" {
					t.Errorf("%s schema %s has no example", name, schemaName)
				}
				continue
			}
			if err := s.VisitJSON(s.Example, exampleOptions...); err != nil {
				t.Errorf("%s schema %s example: %v", name, schemaName, err)
			}
		}
	}
}

// commonRef matches a reference into common.yaml and captures the schema name.
var commonRef = regexp.MustCompile(`common\.yaml#/components/schemas/([A-Za-z0-9_]+)`)

func TestCommonReferencesResolve(t *testing.T) {
	common := validated(t, Common)
	for _, name := range []string{Core, Query} {
		data, err := fs.ReadFile(FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		refs := commonRef.FindAllStringSubmatch(string(data), -1)
		if len(refs) == 0 {
			t.Errorf("%s: no references into common.yaml", name)
		}
		for _, m := range refs {
			if _, ok := common.Components.Schemas[m[1]]; !ok {
				t.Errorf("%s: %s does not name a schema of common.yaml", name, m[0])
			}
		}

		// Every reference the loader met must be resolved to a value.
		doc := validated(t, name)
		seen := map[*openapi3.Schema]bool{}
		var walk func(where string, ref *openapi3.SchemaRef)
		walk = func(where string, ref *openapi3.SchemaRef) {
			if ref == nil {
				return
			}
			if ref.Value == nil {
				t.Errorf("%s: %s: unresolved reference %q", name, where, ref.Ref)
				return
			}
			if seen[ref.Value] {
				return
			}
			seen[ref.Value] = true
			s := ref.Value
			for _, p := range slices.Sorted(maps.Keys(s.Properties)) {
				walk(where+"."+p, s.Properties[p])
			}
			walk(where+"[]", s.Items)
			walk(where+"{}", s.AdditionalProperties.Schema)
			walk(where+"!", s.Not)
			for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
				for _, sub := range list {
					walk(where+"|", sub)
				}
			}
		}
		for schemaName, ref := range doc.Components.Schemas {
			walk(schemaName, ref)
		}
		for path, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				for _, p := range op.Parameters {
					walk(path+" "+p.Value.Name, p.Value.Schema)
				}
				if op.RequestBody != nil {
					for _, mt := range op.RequestBody.Value.Content {
						walk(op.OperationID+" request", mt.Schema)
					}
				}
				for status, resp := range op.Responses.Map() {
					for _, mt := range resp.Value.Content {
						walk(op.OperationID+" "+status, mt.Schema)
					}
					for h, hdr := range resp.Value.Headers {
						walk(op.OperationID+" "+status+" "+h, hdr.Value.Schema)
					}
				}
			}
		}
	}
}

func TestSharedSchemasDefinedOnce(t *testing.T) {
	common := validated(t, Common)
	for _, name := range []string{Core, Query} {
		doc := validated(t, name)
		for schemaName, ref := range doc.Components.Schemas {
			if _, shared := common.Components.Schemas[schemaName]; !shared {
				continue
			}
			if want := "common.yaml#/components/schemas/" + schemaName; ref.Ref != want {
				t.Errorf("%s redefines shared schema %s; refer to %s instead", name, schemaName, want)
			}
		}
	}
	core := validated(t, Core)
	_, op := operationByID(t, core, "queryEvents")
	if ref := op.Responses.Status(http.StatusOK).Value.Content.Get("application/json").Schema.Ref; ref != "common.yaml#/components/schemas/QueryEventsResponse" {
		t.Errorf("core queryEvents 200 schema is %q, want the shared QueryEventsResponse", ref)
	}
}

// webSocket is the shape of the x-websocket extension.
type webSocket struct {
	TypeField    string   `json:"typeField"`
	ClientFrames []string `json:"clientFrames"`
	ServerFrames []struct {
		Name   string `json:"name"`
		Schema string `json:"schema"`
		Match  string `json:"match"`
	} `json:"serverFrames"`
}

func TestWebSocketExtension(t *testing.T) {
	doc := validated(t, Core)
	var found []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if _, ok := op.Extensions["x-websocket"]; ok {
				found = append(found, method+" "+path)
			}
		}
	}
	if want := []string{"GET /api/v1/events/stream"}; !slices.Equal(found, want) {
		t.Fatalf("x-websocket on %v, want %v", found, want)
	}
	_, op := operationByID(t, doc, "streamEvents")
	raw, err := json.Marshal(op.Extensions["x-websocket"])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var ws webSocket
	if err := dec.Decode(&ws); err != nil {
		t.Fatalf("x-websocket: %v", err)
	}
	if ws.TypeField != "type" {
		t.Errorf("typeField = %q, want type", ws.TypeField)
	}
	schema := func(name string) *openapi3.Schema {
		ref, ok := doc.Components.Schemas[name]
		if !ok || ref.Value == nil {
			t.Errorf("x-websocket names schema %q, which core.yaml does not define", name)
			return nil
		}
		return ref.Value
	}
	if len(ws.ClientFrames) == 0 {
		t.Error("no client frames")
	}
	for _, name := range ws.ClientFrames {
		if s := schema(name); s != nil && !s.Type.Is(openapi3.TypeObject) {
			t.Errorf("client frame %s is not an object", name)
		}
	}
	if s := schema("SubscribeFrame"); s != nil {
		checkTag(t, "SubscribeFrame", s, ws.TypeField, "subscribe")
	}
	var names []string
	for _, f := range ws.ServerFrames {
		names = append(names, f.Name)
		s := schema(f.Schema)
		if s == nil {
			continue
		}
		switch f.Match {
		case "":
			if !s.Type.Is(openapi3.TypeObject) {
				t.Errorf("tagged frame %s: schema %s is not an object", f.Name, f.Schema)
			}
			checkTag(t, f.Schema, s, ws.TypeField, f.Name)
		case "untagged-object":
			if !s.Type.Is(openapi3.TypeObject) {
				t.Errorf("untagged frame %s: schema %s is not an object", f.Name, f.Schema)
			}
			if _, tagged := s.Properties[ws.TypeField]; tagged {
				t.Errorf("untagged frame %s: schema %s has a %q member", f.Name, f.Schema, ws.TypeField)
			}
		case "array":
			if !s.Type.Is(openapi3.TypeArray) {
				t.Errorf("array frame %s: schema %s is not an array", f.Name, f.Schema)
			}
		default:
			t.Errorf("frame %s: unknown match %q", f.Name, f.Match)
		}
	}
	want := []string{"replay", "replay_complete", "lagged", "event", "event_batch"}
	if !slices.Equal(names, want) {
		t.Errorf("server frames %v, want %v", names, want)
	}
	if resp := op.Responses.Value("101"); resp == nil {
		t.Error("streamEvents documents no 101 response")
	}
}

// checkTag asserts that s requires the member tag holding exactly value.
func checkTag(t *testing.T, name string, s *openapi3.Schema, tag, value string) {
	t.Helper()
	prop, ok := s.Properties[tag]
	if !ok || !slices.Contains(s.Required, tag) {
		t.Errorf("%s: %q is not a required member", name, tag)
		return
	}
	if !slices.Equal(prop.Value.Enum, []any{value}) {
		t.Errorf("%s: %q enum = %v, want [%s]", name, tag, prop.Value.Enum, value)
	}
}

// isFollowerWrite reports whether Core's read-only follower refuses method on path.
func isFollowerWrite(method, path string) bool {
	if method == http.MethodGet {
		return false
	}
	return path == "/api/v1/events" || path == "/api/v1/events/batch" ||
		strings.HasPrefix(path, "/api/v1/projections/")
}

func TestCoreErrorResponses(t *testing.T) {
	doc := validated(t, Core)
	readOnly := map[string]any{"error": "read_only", "message": "This node is a read-only follower"}
	conflict := map[string]any{"error": "version_conflict", "expected_version": 3.0, "current_version": 5.0}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			public := op.Security != nil && len(*op.Security) == 0
			if public != (path == "/health") {
				t.Errorf("%s: public = %v", where, public)
			}
			if !public {
				unauthorized := op.Responses.Status(http.StatusUnauthorized)
				if unauthorized == nil || unauthorized.Value.Content.Get("text/plain") == nil {
					t.Errorf("%s: no plain-text 401", where)
				}
				limited := op.Responses.Status(http.StatusTooManyRequests)
				if limited == nil || limited.Value.Content.Get("text/plain") == nil || limited.Value.Headers["Retry-After"] == nil {
					t.Errorf("%s: no plain-text 429 with Retry-After", where)
				}
				if ok := op.Responses.Status(http.StatusOK); ok != nil {
					for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining"} {
						if ok.Value.Headers[h] == nil {
							t.Errorf("%s: 200 does not document %s", where, h)
						}
					}
				}
			}
			if op.RequestBody != nil {
				for _, status := range []int{http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity} {
					resp := op.Responses.Status(status)
					if resp == nil || resp.Value.Content.Get("text/plain") == nil {
						t.Errorf("%s: takes a JSON body but documents no plain-text %d", where, status)
					}
				}
			}
			resp := op.Responses.Status(http.StatusConflict)
			if !isFollowerWrite(method, path) {
				if resp != nil {
					t.Errorf("%s: documents 409 but is not a follower-refused write", where)
				}
				continue
			}
			if resp == nil {
				t.Errorf("%s: follower-refused write without 409", where)
				continue
			}
			schema := resp.Value.Content.Get("application/json").Schema.Value
			if err := schema.VisitJSON(readOnly); err != nil {
				t.Errorf("%s: 409 does not accept read_only: %v", where, err)
			}
			isIngest := op.OperationID == "ingestEvent" || op.OperationID == "ingestEvents"
			if err := schema.VisitJSON(conflict); (err == nil) != isIngest {
				t.Errorf("%s: 409 accepts version_conflict = %v, want %v", where, err == nil, isIngest)
			}
		}
	}
}

func TestQueryErrorResponses(t *testing.T) {
	doc := validated(t, Query)
	_, op := operationByID(t, doc, "queryEvents")
	for _, status := range []int{400, 401, 402, 404, 422, 429} {
		resp := op.Responses.Status(status)
		if resp == nil || resp.Value.Content.Get("application/json") == nil {
			t.Errorf("queryEvents: no JSON %d", status)
		}
	}
	limited := op.Responses.Status(http.StatusTooManyRequests).Value.Headers
	for _, h := range []string{"retry-after", "x-ratelimit-limit", "x-ratelimit-remaining"} {
		if limited[h] == nil {
			t.Errorf("queryEvents 429: no %s header", h)
		}
	}
	ok := op.Responses.Status(http.StatusOK).Value.Headers
	for _, h := range []string{"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} {
		if ok[h] == nil {
			t.Errorf("queryEvents 200: no %s header", h)
		}
	}
	for _, p := range op.Parameters {
		if p.Value.Name == "tenant_id" {
			t.Error("queryEvents takes tenant_id, but the Query Service scopes by credentials")
		}
		if p.Value.Name == "limit" && p.Value.Schema.Value.Default != 100.0 {
			t.Errorf("limit default = %v, want 100", p.Value.Schema.Value.Default)
		}
	}
	schemes := slices.Sorted(maps.Keys(doc.Components.SecuritySchemes))
	if !slices.Equal(schemes, []string{"apiKeyAuth", "bearerAuth"}) {
		t.Errorf("query security schemes %v", schemes)
	}
}

func TestCoreQueryParameters(t *testing.T) {
	doc := validated(t, Core)
	_, op := operationByID(t, doc, "queryEvents")
	var names []string
	params := map[string]*openapi3.Parameter{}
	for _, p := range op.Parameters {
		names = append(names, p.Value.Name)
		params[p.Value.Name] = p.Value
		if p.Value.In != openapi3.ParameterInQuery || p.Value.Required {
			t.Errorf("%s: want an optional query parameter", p.Value.Name)
		}
	}
	slices.Sort(names)
	want := []string{"as_of", "entity_id", "event_type", "event_type_prefix", "exclude_event_type_prefix",
		"integrity", "limit", "offset", "order", "payload_filter", "since", "tenant_id", "until"}
	if !slices.Equal(names, want) {
		t.Errorf("queryEvents parameters %v, want %v", names, want)
	}
	if got := params["order"].Schema.Value.Enum; !slices.Equal(got, []any{"asc", "desc"}) {
		t.Errorf("order enum %v", got)
	}
	if got := params["integrity"].Schema.Value.Enum; !slices.Equal(got, []any{"retained-entity-v1"}) {
		t.Errorf("integrity enum %v", got)
	}
	for _, n := range []string{"limit", "offset"} {
		if s := params[n].Schema.Value; s.Min == nil || *s.Min != 0 || !s.Type.Is(openapi3.TypeInteger) {
			t.Errorf("%s: want an integer with minimum 0", n)
		}
	}
	if d := params["limit"].Schema.Value.Default; d != nil {
		t.Errorf("Core limit has default %v; Core applies none", d)
	}
}

func TestValidationRules(t *testing.T) {
	common := validated(t, Common)
	cases := map[string]struct{ valid, invalid []string }{
		"EventType": {
			valid:   []string{"order.placed", "a", "user_profile.v2.updated", strings.Repeat("a", 128)},
			invalid: []string{"", "Order.Placed", ".order", "order.", "order..placed", "order-placed", "order placed", strings.Repeat("a", 129)},
		},
		"EntityId": {
			valid:   []string{"order-42", "user:1@example/x", "a b", "x", strings.Repeat("é", 128)},
			invalid: []string{"", " x", "x ", "\tx", "a\nb", "a\x00b", "   ", strings.Repeat("a", 129)},
		},
		"TenantId": {
			valid:   []string{"acme", "tenant_1-prod", strings.Repeat("a", 64)},
			invalid: []string{"", "a b", "a.b", "a/b", strings.Repeat("a", 65)},
		},
	}
	for name, c := range cases {
		s := common.Components.Schemas[name].Value
		for _, v := range c.valid {
			if err := s.VisitJSON(v); err != nil {
				t.Errorf("%s rejects %q: %v", name, v, err)
			}
		}
		for _, v := range c.invalid {
			if err := s.VisitJSON(v); err == nil {
				t.Errorf("%s accepts %q", name, v)
			}
		}
	}
	event := common.Components.Schemas["Event"].Value
	if want := []string{"entity_id", "event_type", "id", "metadata", "payload", "tenant_id", "timestamp", "version"}; !slices.Equal(slices.Sorted(slices.Values(event.Required)), want) {
		t.Errorf("Event requires %v, want %v", event.Required, want)
	}
	if !event.Properties["metadata"].Value.Nullable {
		t.Error("Event.metadata is not nullable")
	}
}

func TestLoadReadsOnlyEmbeddedFiles(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"missing.yaml", "../go.mod", "/etc/hostname"} {
		if _, err := Load(ctx, name); err == nil {
			t.Errorf("Load(%q) succeeded", name)
		}
	}
	for _, raw := range []string{"http://localhost:3900/core.yaml", "file:///etc/hostname"} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readEmbedded(nil, u); err == nil {
			t.Errorf("readEmbedded(%q) succeeded", raw)
		}
	}
	a, err := Load(ctx, Core)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(ctx, Core)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a.Components.Schemas["Health"].Value == b.Components.Schemas["Health"].Value {
		t.Error("two loads share values")
	}
}

// BenchmarkLoad measures loading and resolving each document, the cost a
// server pays once at start-up before building a validating router.
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{Core, Query} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Load(b.Context(), name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkValidate measures loading plus full validation, examples included.
func BenchmarkValidate(b *testing.B) {
	for _, name := range []string{Core, Query} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Validate(b.Context(), name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestEverythingDescribed asserts that every component schema, property,
// parameter, header and operation has a description, which the generator
// turns into doc comments. A property that is a bare reference borrows its
// target's description.
func TestEverythingDescribed(t *testing.T) {
	for _, name := range []string{Common, Core, Query, DurableStreams} {
		doc := validated(t, name)
		for schemaName, ref := range doc.Components.Schemas {
			s := ref.Value
			if s.Description == "" {
				t.Errorf("%s: schema %s has no description", name, schemaName)
			}
			props := map[string]*openapi3.SchemaRef{}
			maps.Copy(props, s.Properties)
			for _, sub := range s.AllOf {
				if sub.Ref == "" {
					maps.Copy(props, sub.Value.Properties)
				}
			}
			for prop, p := range props {
				if p.Value.Description == "" {
					t.Errorf("%s: %s.%s has no description", name, schemaName, prop)
				}
			}
		}
		for pname, p := range doc.Components.Parameters {
			if p.Value.Description == "" {
				t.Errorf("%s: parameter %s has no description", name, pname)
			}
		}
		for hname, h := range doc.Components.Headers {
			if h.Value.Description == "" {
				t.Errorf("%s: header %s has no description", name, hname)
			}
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				params := slices.Clone(item.Parameters)
				params = append(params, op.Parameters...)
				for _, p := range params {
					if p.Value.Description == "" {
						t.Errorf("%s %s %s: parameter %s has no description", name, method, path, p.Value.Name)
					}
				}
				for status, resp := range op.Responses.Map() {
					if resp.Value.Description == nil || *resp.Value.Description == "" {
						t.Errorf("%s %s %s: response %s has no description", name, method, path, status)
					}
				}
			}
		}
	}
}

// TestNoGeneratedNameClashes asserts that no schema takes a name Go
// generators derive from an operation id (oapi-codegen's <Op>Response
// wrapper, <Op>Params and <Op>JSONRequestBody), so generated code for these
// documents compiles with default options.
func TestNoGeneratedNameClashes(t *testing.T) {
	for _, name := range []string{Core, Query} {
		doc := validated(t, name)
		for _, op := range operations(doc) {
			base := strings.ToUpper(op.id[:1]) + op.id[1:]
			for _, suffix := range []string{"Response", "Params", "JSONRequestBody", "JSONBody"} {
				if _, ok := doc.Components.Schemas[base+suffix]; ok {
					t.Errorf("%s: schema %s%s clashes with the name generated for operation %s", name, base, suffix, op.id)
				}
			}
		}
	}
}
