package ir

// WebSocket is the frame model of the x-websocket operation: the types
// and functions that decode the frames a server sends and encode those a
// client sends. The fields are the names the generated code declares.
type WebSocket struct {
	Op        *Operation
	TypeField string // the member of a frame naming its kind

	Frames       []*Frame   // the server frames
	Clients      []*TypeRef // the client frames
	Iface        string     // the interface of server frames
	ClientIface  string     // the interface of client frames
	Unknown      string     // the type of a frame of unknown kind
	ErrType      string     // the error type of a malformed frame
	Decode       string     // the function that decodes a frame
	Encode       string     // the function that encodes a client frame
	Marker       string     // the marker method of server frames
	ClientMarker string     // the marker method of client frames
	Value        string     // the struct that holds any frame, for decoding in place
	KindType     string     // the type of its Kind field
	DecodeInto   string     // the function that decodes into a value
	KindOf       string     // the unexported function that tells a frame's kind
	UnknownKind  string     // the Kind constant of an unknown frame
	UnknownField string     // the field of Value holding an unknown frame
}

// Frame is one server frame of the WebSocket stream.
type Frame struct {
	Name    string // the tag value
	Match   string // how it is recognised: "" (by tag), "untagged-object", "array"
	Wrapper string // the Go type of the frame
	Type    *TypeRef
	Kind    string // its Kind constant
	Field   string // the field of Value that holds it
}
