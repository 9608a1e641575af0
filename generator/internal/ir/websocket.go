package ir

// streamSpec is the x-websocket extension of an operation.
type WebSocket struct {
	Op        *Operation
	TypeField string // the member of a frame naming its kind

	Frames       []*Frame
	Clients      []*TypeRef
	Iface        string
	ClientIface  string
	Unknown      string
	ErrType      string
	Decode       string
	Encode       string
	Marker       string
	ClientMarker string
	Value        string // the struct that holds any frame, for decoding in place
	KindType     string // the type of its Kind field
	DecodeInto   string // the function that decodes into a value
	KindOf       string // the unexported function that tells a frame's kind
	UnknownKind  string // the Kind constant of an unknown frame
	UnknownField string // the field of value holding an unknown frame
}

// streamFrame is one server frame of the stream.
type Frame struct {
	Name    string // tag value
	Match   string // "", "untagged-object", "array"
	Wrapper string // Go type of the variant
	Type    *TypeRef
	Kind    string // its Kind constant
	Field   string // the field of the value type that holds it
}
