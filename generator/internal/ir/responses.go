package ir

// streamKind is the framing of a streamed response body.
type StreamKind int

const (
	StreamNone    StreamKind = iota
	StreamSSE                // text/event-stream
	StreamJSONL              // application/jsonl, application/x-ndjson
	StreamJSONSeq            // application/json-seq (RFC 7464)
)

// success is one documented 2xx response.
type Success struct {
	Status  string // "200", "2XX"
	Kind    BodyKind
	Type    *TypeRef
	Field   string // the result struct field of its body, "" for none
	Headers []SuccessHeader
}

// successHeader is a header documented on one success response.
type SuccessHeader struct {
	Header   *Header
	Required bool
}

// respHeader is a documented header of the success responses, a field of
// the result struct.
type Header struct {
	Name   string // as on the wire
	GoName string
	Type   *TypeRef
	Doc    string
	Always bool // every success status documents it as required: no Opt
}

// itemStream is a streamed success response: its items are ranged over.
type Stream struct {
	Kind     StreamKind
	Media    string
	Item     *TypeRef // schema of an item (of the data of an SSE event); nil: raw
	Events   []*Event
	ItemType string // the Go type the iterator yields
}

// sseEvent is an SSE event name the document maps to a schema.
type Event struct {
	Name  string
	Field string
	Type  *TypeRef
}
