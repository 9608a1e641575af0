package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// errorCode is one entry of x-error-codes.
type ErrorCode struct {
	Code, Name, Doc string
	Class           string // runtime sentinel name, "" or "none"
}

// bodyKind is how a request or response body is encoded.
type BodyKind int

const (
	BodyNone BodyKind = iota
	BodyJSON
	BodyForm
	BodyMultipart
	BodyBinary
	BodyText
)

// param is an operation parameter.
type Param struct {
	Name     string // as in the spec
	GoName   string // field of the params struct, or argument name for path parameters
	In       string
	Style    string
	Explode  bool
	Required bool
	Type     *TypeRef
	Doc      string
	Segments bool // x-path-segments: a path of several segments, each escaped
}

// body is a request body.
type Body struct {
	Kind        BodyKind
	ContentType string
	Type        *TypeRef
	Required    bool
}

// result is the success response.
type Result struct {
	Kind   BodyKind
	Status string
	Type   *TypeRef
}

// errResp is a documented error response with a JSON schema.
type ErrorResponse struct {
	Status string // "404", "4XX" or "default"
	Type   *TypeRef
}

// operation is one API operation.
type Operation struct {
	ID          string
	GoName      string
	Method      string
	Path        string
	Summary     string
	Description string
	Tag         string
	Deprecated  bool
	RetrySafe   bool
	PathParams  []*Param
	Query       []*Param
	Header      []*Param
	ParamsType  string
	Body        *Body
	Result      Result
	Errors      []ErrorResponse
	ErrorFunc   string // name of the ErrorBody function, if any
	TextErrors  []string
	Security    []string
	WebSocket   bool
	Pagination  *Pagination // what it says, once read
	AllName     string      // the iterator method of a paginated operation
	PageBody    string      // the result struct's field holding a page, if any
	Successes   []*Success  // the documented 2xx responses
	Headers     []*Header   // documented headers of the 2xx responses
	ResultType  string      // the result struct, "" when the body alone is returned
	Accept      string      // the Accept header, "" for application/json
	Streaming   bool        // x-streaming: a binary or text body as an io.ReadCloser
	Stream      *Stream     // a streamed response ranged over, or nil
	Mixed       *Stream     // a streamed response offered beside other success bodies
	Sibling     bool        // the <Name>Stream method of a mixed operation: its params and ErrorBody are the other's
}

// authScheme is a security scheme turned into an option constructor.
type AuthScheme struct {
	Key   string
	Func  string
	Kind  string // "bearer", "basic", "header", "query"
	Param string
	Doc   string
}

func (o *Operation) String() string { return fmt.Sprintf("%s %s", o.Method, o.Path) }

// pagination is the paging contract of one operation.
type Pagination struct {
	Items   *Field // member of the result holding the items; nil: the body is the list
	Item    *TypeRef
	Offset  *Param // offset style
	Limit   *Param
	Cursor  *Param // cursor style
	Next    *Field
	HasMore *Field
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
