package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// Operation is one operation of the API: a method of the client (or, for
// an x-websocket operation, a function returning its path).
type Operation struct {
	ID          string // the operationId
	GoName      string // the method's name
	Method      string // the HTTP method
	Path        string // the path template
	Summary     string
	Description string
	Tag         string // the first tag, which names the file of the method
	Deprecated  bool
	RetrySafe   bool // the runtime may retry it (idempotent method or x-retry-safe)
	PathParams  []*Param
	Query       []*Param
	Header      []*Param
	ParamsType  string // the struct of query and header parameters, "" for none
	Body        *Body  // the request body, or nil
	Result      Result // the success response the method returns
	Errors      []ErrorResponse
	ErrorFunc   string   // the function decoding an error body by status, "" for none
	TextErrors  []string // the statuses whose error body is plain text
	Security    []string // the security schemes it names
	WebSocket   bool     // an x-websocket operation
	Pagination  *Pagination
	AllName     string     // the iterator method of a paginated operation
	PageBody    string     // the result struct's field holding a page, if any
	Successes   []*Success // the documented 2xx responses
	Headers     []*Header  // documented headers of the 2xx responses
	ResultType  string     // the result struct, "" when the body alone is returned
	Accept      string     // the Accept header, "" for application/json
	Streaming   bool       // x-streaming: a binary or text body as an io.ReadCloser
	Stream      *Stream    // a streamed response ranged over, or nil
	Mixed       *Stream    // a streamed response offered beside other success bodies
	Sibling     bool       // the <Name>Stream method of a mixed operation: its params and ErrorBody are the other's
}

// String returns the operation's method and path.
func (o *Operation) String() string { return fmt.Sprintf("%s %s", o.Method, o.Path) }

// Param is a parameter of an operation.
type Param struct {
	Name     string // as in the document
	GoName   string // the field of the params struct, or the argument for a path parameter
	In       string // the location, as in the document: "path", "query", "header"
	Style    string // the serialization style ("form", "simple", "deepObject"...)
	Explode  bool
	Required bool
	Type     *TypeRef
	Doc      string
	Segments bool // x-path-segments: a path of several segments, each escaped
}

// BodyKind is how a request or response body is encoded.
type BodyKind int

// The encodings of bodies.
const (
	BodyNone BodyKind = iota
	BodyJSON
	BodyForm
	BodyMultipart
	BodyBinary
	BodyText
)

// Body is a request body.
type Body struct {
	Kind        BodyKind
	ContentType string
	Type        *TypeRef
	Required    bool
}

// Result is the success response an operation's method returns: the body
// of the first success status that has one.
type Result struct {
	Kind   BodyKind
	Status string
	Type   *TypeRef
}

// ErrorResponse is a documented error response with a JSON schema.
type ErrorResponse struct {
	Status string // "404", "4XX" or "default"
	Type   *TypeRef
}

// Pagination is the paging contract of one operation (x-pagination).
type Pagination struct {
	Items   *Field   // the member of the result holding the items; nil: the body is the list
	Item    *TypeRef // the type of an item
	Offset  *Param   // offset style: the offset parameter
	Limit   *Param   // the page size parameter
	Cursor  *Param   // cursor style: the cursor parameter
	Next    *Field   // cursor style: the member holding the next cursor
	HasMore *Field   // the member saying whether more pages follow, or nil
}

// AuthScheme is a security scheme turned into an option constructor.
type AuthScheme struct {
	Key   string // the scheme's name in the document
	Func  string // the option constructor
	Kind  string // "bearer", "basic", "header", "query"
	Param string // header and query: the parameter carrying the key
	Doc   string
}

// ErrorCode is one entry of x-error-codes: a sentinel error.
type ErrorCode struct {
	Code  string // the code error bodies carry
	Name  string // the sentinel, Err<name>
	Doc   string
	Class string // the runtime sentinel it also matches, "" or "none"
}

// StatusClass returns the class of a response status as the document
// writes it: 2 for "200" and "2XX", 0 for "default".
func StatusClass(code string) int {
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

// StatusCode returns a status the document writes as a number ("404"),
// and 0 for a class ("4XX") or "default".
func StatusCode(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
