// Package ir is the model of an API that the generator renders into a Go
// package: its named types (structs, enums, sums, defined types and
// aliases), its operations with their parameters, bodies, responses,
// headers, streams and paging, its security schemes, error codes and
// WebSocket frames. The builder reads an OpenAPI document into an API and
// takes every Go name in it; the emitters read only the API. Nothing here
// depends on the document's format.
package ir

import "github.com/allsource-go/allsource/generator/internal/naming"

// API is the model of one generated package.
type API struct {
	// Title, Version and Description are the document's info.
	Title, Version, Description string
	// Names holds the package-level names the builder took; emitters
	// allocate the locals of a generated function in a child of it.
	Names *naming.Namespace
	// Imports maps the import path of each package the generated code may
	// use to the name it is imported under.
	Imports map[string]string
	// Types are the named types, in declaration order.
	Types []*Type
	// Operations are the operations, in path and method order, x-websocket
	// ones included.
	Operations []*Operation
	// Auth holds a scheme per security scheme with an option constructor.
	Auth []*AuthScheme
	// WebSocket is the frame model of the x-websocket operation, or nil.
	WebSocket *WebSocket
	// BaseURL is the first server URL when it has no variables, declared
	// as the constant BaseURLName; "" for none.
	BaseURL, BaseURLName string
	// UserAgent (x-user-agent) is the User-Agent NewClient sends, declared
	// as the constant UserAgentName; "" for none.
	UserAgent, UserAgentName string
	// ErrorCodes are the codes of x-error-codes, listed in the unexported
	// variable ErrorCodesVar.
	ErrorCodes    []*ErrorCode
	ErrorCodesVar string
}

// Pos is where an element is written in the document: its file and line
// and column when known.
type Pos struct {
	File         string
	Line, Column int
}

// ResponseTypes returns the named types a success response decodes into,
// directly or through their members, in declaration order. It is the list
// a reflection-free decoder generator would cover: the emitter renders
// types.go first, so such decoders can be added as one more file built from
// this list without changing the types themselves.
func (a *API) ResponseTypes() []*Type {
	seen := map[*Type]bool{}
	var visit func(t *TypeRef)
	visit = func(t *TypeRef) {
		for t != nil && (t.Kind == Slice || t.Kind == Map) {
			t = t.Elem
		}
		if t == nil || t.Kind != Named || seen[t.Named] {
			return
		}
		n := t.Named
		seen[n] = true
		for _, f := range n.Fields {
			visit(f.Type)
		}
		if n.Extra != nil {
			visit(n.Extra)
		}
		for _, v := range n.Variants {
			visit(v.Type)
		}
		visit(n.Under)
	}
	for _, o := range a.Operations {
		if o.Result.Kind == BodyJSON {
			visit(o.Result.Type)
		}
	}
	if a.WebSocket != nil {
		for _, f := range a.WebSocket.Frames {
			visit(f.Type)
		}
	}
	var out []*Type
	for _, n := range a.Types {
		if seen[n] {
			out = append(out, n)
		}
	}
	return out
}
