package ir

// Success is one documented 2xx response.
type Success struct {
	Status  string // "200", "2XX"
	Kind    BodyKind
	Type    *TypeRef
	Field   string // the result struct's field holding its body, "" for none
	Headers []SuccessHeader
}

// SuccessHeader is a header documented on one success response.
type SuccessHeader struct {
	Header   *Header
	Required bool
}

// Header is a documented header of the success responses, a field of the
// result struct.
type Header struct {
	Name   string // as on the wire
	GoName string
	Type   *TypeRef
	Doc    string
	Always bool // every success status documents it as required: no Opt
}

// StreamKind is the framing of a streamed response body.
type StreamKind int

// The framings of streamed responses.
const (
	StreamNone    StreamKind = iota
	StreamSSE                // text/event-stream
	StreamJSONL              // application/jsonl, application/x-ndjson
	StreamJSONSeq            // application/json-seq (RFC 7464)
)

// Stream is a streamed success response: its items are ranged over.
type Stream struct {
	Kind     StreamKind
	Media    string   // the media type
	Item     *TypeRef // the type of an item (of the data of an SSE event); nil: raw
	Events   []*Event // SSE: the event names the document maps to schemas
	ItemType string   // SSE: the Go type the iterator yields
}

// Event is an SSE event name the document maps to a schema (x-sse-events).
type Event struct {
	Name  string   // the event: name
	Field string   // the field of the event type holding its decoded data
	Type  *TypeRef // the type of its data
}
