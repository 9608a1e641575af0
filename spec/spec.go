// Package spec holds the hand-maintained OpenAPI 3.0.3 documents of the
// AllSource services and loads them from an embedded file system:
//
//   - common.yaml: components shared by both services (Event, the query
//     envelope, validation rules, the JSON error bodies);
//   - core.yaml: AllSource Core, the event store, with its WebSocket stream;
//   - query.yaml: the Query Service, the tenant-scoped read API;
//   - durable-streams.yaml: the Durable Streams protocol (append-only
//     streams at any URL path, live reads, idempotent producers).
//
// The documents are the source of truth for the generated clients in gen/ and
// for the request and response validation done by the in-memory test server.
// Vendor extensions (x-retry-safe, x-go-name, x-websocket, x-path-segments and
// others) are described in
// this directory's README.md.
package spec

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"

	"github.com/getkin/kin-openapi/openapi3"
)

// Names of the documents in FS.
const (
	// Common is the document of shared components referenced by Core and Query.
	Common = "common.yaml"
	// Core is the AllSource Core document.
	Core = "core.yaml"
	// Query is the AllSource Query Service document.
	Query = "query.yaml"
	// DurableStreams is the Durable Streams protocol document.
	DurableStreams = "durable-streams.yaml"
)

//go:embed *.yaml
var files embed.FS

// FS returns the embedded file system holding the YAML documents at its root.
func FS() fs.FS {
	return files
}

// Load reads the named document (Core, Query, Common or DurableStreams) from FS, resolving its
// references, including those into common.yaml, from the same file system. It
// does not validate the document; call Validate for that.
//
// Each call returns a fresh, independently mutable *openapi3.T.
func Load(ctx context.Context, name string) (*openapi3.T, error) {
	loader := newLoader(ctx)
	doc, err := loader.LoadFromURI(&url.URL{Path: name})
	if err != nil {
		return nil, fmt.Errorf("spec: load %s: %w", name, err)
	}
	return doc, nil
}

// Validate loads the named document with Load and validates it with kin-openapi,
// checking every example and default against its schema. It returns the loaded
// document when it is valid.
func Validate(ctx context.Context, name string) (*openapi3.T, error) {
	doc, err := Load(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(ctx,
		openapi3.EnableExamplesValidation(),
		openapi3.EnableSchemaDefaultsValidation(),
		openapi3.EnableSchemaPatternValidation(),
		openapi3.EnableSchemaFormatValidation(),
	); err != nil {
		return nil, fmt.Errorf("spec: validate %s: %w", name, err)
	}
	return doc, nil
}

// newLoader returns a kin-openapi loader that follows external references but
// reads them only from the embedded file system, never from disk or network.
func newLoader(ctx context.Context) *openapi3.Loader {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	loader.IsExternalRefsAllowed = true
	loader.ReadFromURIFunc = readEmbedded
	return loader
}

// errOutsideFS reports a reference that does not name a file in FS.
var errOutsideFS = errors.New("reference outside the embedded documents")

// readEmbedded is an openapi3.ReadFromURIFunc that serves only relative paths
// inside the embedded file system.
func readEmbedded(_ *openapi3.Loader, location *url.URL) ([]byte, error) {
	if location.Scheme != "" || location.Host != "" {
		return nil, fmt.Errorf("read %q: %w", location.String(), errOutsideFS)
	}
	name := path.Clean(location.Path)
	if !fs.ValidPath(name) {
		return nil, fmt.Errorf("read %q: %w", location.Path, errOutsideFS)
	}
	data, err := fs.ReadFile(files, name)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", name, err)
	}
	return data, nil
}
