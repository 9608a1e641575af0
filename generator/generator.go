// Package generator turns OpenAPI documents into typed Go clients built on
// the runtime package.
//
// The pipeline is load -> build -> emit, each stage in files or a package
// of its own:
//
//   - load (load.go, repair.go): kin-openapi reads the document, external
//     references allowed and origins recorded; a document it refuses for a
//     mendable reason is repaired first.
//   - build (build*.go, infer.go, cycles.go, diag.go, schema.go): the
//     builder reads the document into the model of the API, an *ir.API
//     (package internal/ir): the named Go types with their fields, enum
//     values and union variants, the operations with their parameters,
//     bodies, responses, headers, streams and paging, the security
//     schemes, error codes and WebSocket frames, every Go name taken
//     (package internal/naming). Inference (infer.go) decides what a
//     schema is and how the variants of a union are told apart; warnings
//     and the reasons to refuse a document are diagnostics (diag.go).
//   - emit (package internal/emit): Go code rendered with jennifer from
//     the model alone, plus package docs and an operation index from text
//     templates. The package imports neither kin-openapi nor the builder,
//     so a new feature is a change to the model and the builder plus the
//     code that renders it.
//
// Generate runs it in memory; WriteFiles puts the result on disk.
//
// # Schemas
//
// An object schema becomes a struct. A required member is a plain field, an
// optional one a runtime.Opt, one that may be null a runtime.Nullable, so
// absent, null and a value stay apart without pointers for scalars, slices
// and maps. An optional member that is an object or a union, and a member
// that would make a type contain itself, is held by pointer, nil when
// absent: a runtime.Opt over a struct type would cost every consumer a copy
// of Opt's methods for that type at every build. Unless the schema
// says additionalProperties: false, members it does not describe are kept in
// an AdditionalProperties map and written back on encode; so is a member
// whose name no struct tag can hold (an empty name, one with a comma), as
// raw JSON once its value is checked against its schema. Arrays are slices,
// additionalProperties-only objects maps, a schema with no type json.RawMessage
// (decode it with json.Unmarshal). String enums are open: a defined string
// type with constants and IsKnown. allOf is merged into one struct; oneOf and
// anyOf become a struct with a Kind and one field per variant, chosen by the
// discriminator (explicit mapping, or schema names), else by constant-valued
// or required members only one variant has, else by JSON kind, else by
// trying the variants in order; a value that matches none is kept in Raw.
// Formats: date-time is time.Time, byte and binary []byte, int32 int32,
// other integers int64, float float32, other numbers float64; date and uuid
// stay strings (their text is what the wire carries).
//
// Each struct decodes in one pass over the input, without reflection: its
// DecodeJSON method (json.go) hands runtime.DecodeJSONObject a table of its
// members, each with its name, the offset of its field (unsafe.Offsetof)
// and how its value decodes (a runtime.MemberKind for scalars, alone or in
// an Opt, a Nullable, a slice or a map, else a small function of the
// package shared by the members decoded alike). The loop and the decoding
// of scalars are compiled once, in the runtime, rather than once per type,
// so that a large API's package compiles no slower than oapi-codegen's
// (make buildtime prints both).
//
// # Operations
//
// Each operation is a method of Client: ctx first, path parameters in path
// order, a params struct for query and header parameters (form, simple,
// deepObject, pipe- and space-delimited styles, explode), the request body
// (JSON, form, multipart, octet-stream, text), then per-call options. The
// success result is typed; every documented JSON error body is decoded into
// runtime.APIError.Detail. Security schemes become With<Scheme> options.
//
// # Vendor extensions
//
//   - x-go-name on a schema, property, parameter or operation sets its Go
//     name.
//   - x-retry-safe: true on an operation marks a non-idempotent method safe to
//     retry (runtime.Request.RetrySafe).
//   - x-websocket on a GET operation describes a WebSocket endpoint: typeField,
//     clientFrames (schema names) and serverFrames ({name, schema, match} with
//     match "" for an object tagged by typeField, "untagged-object" or
//     "array"). It becomes a path function, the StreamFrame sum with its
//     StreamUnknown variant, DecodeStreamFrame, StreamFrameValue with
//     DecodeStreamFrameInto (decoding in place, for readers of many frames)
//     and EncodeStreamClientFrame; no HTTP method is generated for it.
//   - x-path-segments: true on a string path parameter lets its value span
//     several segments ("tenants/7/orders"): each segment is escaped, the
//     slashes between them kept, and an empty path, an empty segment or a
//     "." or ".." segment is refused before any request
//     (runtime.EscapePathSegments).
//   - x-error-codes at the top level declares the codes error bodies carry;
//     each becomes an Err<Name> *runtime.ErrorCode sentinel, optionally of
//     a status class. x-user-agent is the User-Agent NewClient sends.
//
// A Content-Type header parameter, when set, is the Content-Type of the
// request, in place of the body's media type (for a body whose media type is
// a range such as */*, the caller says which). A
// success response offered both as a stream (text/event-stream, JSON lines)
// and in another form, chosen by a query parameter or by Accept, gives two
// methods: <Name> for the other form and <Name>Stream for the stream, with
// the same parameters.
//
// # Shared schemas
//
// Config.ImportMapping maps a referenced file to the Go package generated
// from it: its schemas are referenced, not generated again, so several
// packages share one type.
//
// # Diagnostics
//
// A spec that cannot be read or typed (a schema defined only by itself,
// conflicting allOf parts, defaults or enums of the wrong type, a parameter
// declared twice) is refused with a *SpecError naming file, line and column.
// A construct that can only be typed loosely is typed as raw JSON and
// reported in Result.Warnings. A panic inside Generate is returned as an
// "internal error".
//
// # Repairs
//
// A document the loader refuses goes through a repair stage first: it mends
// what a client generator can soundly work around and reports each repair in
// Result.Warnings at its file, line and column. A number or boolean where a
// string belongs (openapi, info.version, a title, summary or description) is
// read as its text; a description that is an object is left out; a schema
// written as a list is typed as raw JSON; a parameter with both schema and
// content keeps its schema; a reference that names nothing (a missing
// component or file, a remote file with remote references off, a component of
// another kind) becomes raw JSON in a schema position, a response without
// content, and otherwise is left out with what holds it (a parameter, a link,
// a path item); a key written twice keeps its last value when the values
// agree, one is empty, or the key only documents. Anything else stays
// refused.
package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/emit"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/getkin/kin-openapi/openapi3"
)

// DefaultRuntimeImport is the import path of the runtime generated code
// depends on, used when Config.RuntimeImport is empty.
const DefaultRuntimeImport = "github.com/allsource-go/allsource/runtime"

// DefaultCommand is the command written into the go:generate line of the
// generated doc.go when Config.Command is empty.
const DefaultCommand = "go run github.com/allsource-go/allsource/cmd/apigen"

// Config describes one generated package.
type Config struct {
	// Spec is the path of the root document (OpenAPI 3.0/3.1 YAML/JSON, or
	// Swagger 2.0).
	Spec string
	// Package is the Go package name of the output.
	Package string
	// Output is the output directory (used by WriteFiles and the command).
	Output string
	// RuntimeImport is the import path of the runtime package; default
	// DefaultRuntimeImport.
	RuntimeImport string
	// ImportMapping maps a referenced spec file, as written in $ref (for
	// example "common.yaml"), to the Go import path of the package generated
	// from it. Schemas of a mapped file are referenced, not generated.
	ImportMapping map[string]string

	// Source is the spec name written into generated headers and docs;
	// default Spec. Use a relative path: it ends up in committed files.
	Source string
	// ConfigFile is the name of the config file the go:generate line in
	// doc.go passes to the command; default "gen.yaml".
	ConfigFile string
	// Command is the command of the go:generate line; default DefaultCommand.
	Command string
	// AllowRemoteRefs lets $ref name http and https URLs; by default only
	// local files are read.
	AllowRemoteRefs bool
}

// Diagnostic is a message about a place in a spec.
type Diagnostic struct {
	File         string
	Line, Column int
	Message      string
}

// String formats the diagnostic as "file:line:col: message", or as
// "file: message" when the line is not known (Line 0: a Swagger 2.0
// document, whose conversion keeps no origins).
func (d Diagnostic) String() string {
	if d.Line == 0 {
		return fmt.Sprintf("%s: %s", d.File, d.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Column, d.Message)
}

// File is one generated file.
type File struct {
	// Name is the file name, without directory.
	Name string
	// Content is the file content.
	Content []byte
}

// Result is the output of Generate.
type Result struct {
	// Files are the generated files, sorted by name.
	Files []File
	// Warnings name constructs that were typed loosely (as raw JSON, say).
	Warnings []Diagnostic
	// Types lists the Go types declared for the document's component
	// schemas, in the order of their names, then those declared for the
	// inline item schemas of streamed responses (OpenAPI 3.2's itemSchema,
	// x-item-schema, x-sse-events), with the schemas they were generated
	// from. Tests that check generated code against its schemas
	// (round trips of synthesized instances, say) start from it.
	Types []SchemaType
}

// SchemaType is a Go type generated for one component schema, or for an
// inline schema of the items of a streamed response.
type SchemaType struct {
	// Component is the schema's name under #/components/schemas, or ""
	// for an inline item schema.
	Component string
	// Where says where an inline item schema stands (the operation, the
	// media type and, for an SSE event name, the name); "" for a
	// component.
	Where string
	// GoName is the name of the Go type in the generated package.
	GoName string
	// Schema is the schema as loaded (after any repair), with its
	// references resolved.
	Schema *openapi3.Schema
}

// SpecError is a spec that cannot be read or used. Its Error method formats
// it as "file:line:col: reason".
type SpecError struct {
	Diagnostic
	// Err is the underlying error, if any.
	Err error
}

// Error describes where and why the spec was refused.
func (e *SpecError) Error() string { return e.Diagnostic.String() }

// Unwrap returns the underlying error.
func (e *SpecError) Unwrap() error { return e.Err }

// Generate loads the spec named by cfg and returns the generated files. A
// spec that cannot be read is refused with a *SpecError carrying file and
// line where known. Constructs that cannot be typed precisely fall back to
// raw JSON and are reported in Result.Warnings.
func Generate(ctx context.Context, cfg Config) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("apigen: internal error while generating from %s: %v", cfg.Spec, r)
		}
	}()
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	doc, repairs, repaired, err := load(ctx, cfg.Spec, cfg.AllowRemoteRefs, false)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := newGen(cfg, doc)
	g.warnings = append(g.warnings, repairs...)
	if err := g.build(); err != nil {
		// The loader took the document but the model refuses it: the
		// repair stage may mend what it refuses (values of the wrong type),
		// when it has not run yet.
		var se *SpecError
		if repaired || !errors.As(err, &se) {
			return nil, err
		}
		doc, repairs, repaired, lerr := load(ctx, cfg.Spec, cfg.AllowRemoteRefs, true)
		if lerr != nil || !repaired {
			return nil, err
		}
		g = newGen(cfg, doc)
		g.warnings = append(g.warnings, repairs...)
		if err := g.build(); err != nil {
			return nil, err
		}
	}
	out, err := emit.Files(g.model(), emit.Config{Package: cfg.Package, Source: cfg.Source, RuntimeImport: cfg.RuntimeImport,
		Command: cfg.Command, ConfigFile: cfg.ConfigFile}, g.warnAt)
	if err != nil {
		return nil, err
	}
	files := make([]File, len(out))
	for i, f := range out {
		files[i] = File{Name: f.Name, Content: f.Content}
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return &Result{Files: files, Warnings: g.warnings, Types: g.schemaTypes()}, nil
}

func (cfg *Config) normalize() error {
	if cfg.Spec == "" {
		return errors.New("apigen: no spec given")
	}
	if cfg.Package == "" {
		return errors.New("apigen: no package name given")
	}
	if !naming.IsIdent(cfg.Package) || strings.ToLower(cfg.Package) != cfg.Package {
		return fmt.Errorf("apigen: package name %q is not a lower-case Go identifier", cfg.Package)
	}
	if cfg.RuntimeImport == "" {
		cfg.RuntimeImport = DefaultRuntimeImport
	}
	if cfg.Source == "" {
		cfg.Source = filepath.ToSlash(cfg.Spec)
	}
	if cfg.ConfigFile == "" {
		cfg.ConfigFile = "gen.yaml"
	}
	if cfg.Command == "" {
		cfg.Command = DefaultCommand
	}
	return nil
}

// generatedMarker starts every file the generator owns.
const generatedMarker = "Code generated by apigen"

// owned reports whether content is a file written by the generator.
func owned(content []byte) bool {
	first, _, _ := bytes.Cut(content, []byte("\n"))
	return bytes.Contains(first, []byte(generatedMarker))
}

// WriteFiles writes files into dir, creating it if needed, and removes files
// in dir that the generator wrote earlier but no longer produces. Files not
// written by the generator are left alone. Run by go generate in dir, it
// cannot remove a file go generate is yet to read (go generate would stop):
// such a file becomes a build-ignored stub, removed by the next run.
func WriteFiles(dir string, files []File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("apigen: create output directory: %w", err)
	}
	stale, err := staleFiles(dir, files, false)
	if err != nil {
		return err
	}
	pending := unreadByGenerate(dir)
	for _, name := range stale {
		p := filepath.Join(dir, name)
		if pending(name) {
			// go generate has listed this file and stops when it cannot
			// read it: leave a stub the build ignores; the next run, which
			// does not list it, removes it.
			pkg := packageClause(p)
			if err := os.WriteFile(p, []byte("// "+generatedMarker+": stale file, removed on the next run. DO NOT EDIT.\n\n//go:build ignore\n\npackage "+pkg+"\n"), 0o644); err != nil {
				return fmt.Errorf("apigen: replace stale file: %w", err)
			}
			continue
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("apigen: remove stale file: %w", err)
		}
	}
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, f.Content) {
			continue
		}
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			return fmt.Errorf("apigen: write %s: %w", f.Name, err)
		}
	}
	return nil
}

// Diff returns the names of files in dir that differ from files: missing,
// changed, or generated earlier and now stale (a build-ignored stub left by
// WriteFiles under go generate excepted). An empty result means dir is up
// to date.
func Diff(dir string, files []File) ([]string, error) {
	var out []string
	for _, f := range files {
		old, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil || !bytes.Equal(old, f.Content) {
			out = append(out, f.Name)
		}
	}
	stale, err := staleFiles(dir, files, true)
	if err != nil {
		return nil, err
	}
	out = append(out, stale...)
	slices.Sort(out)
	return out, nil
}

// staleFiles lists the files of dir the generator wrote earlier and no
// longer produces. With stubsOnly set, stubs left for go generate are not
// counted: the build ignores them and the next run removes them.
func staleFiles(dir string, files []File, stubsOnly bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("apigen: read output directory: %w", err)
	}
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		keep[f.Name] = true
	}
	var stale []string
	for _, e := range entries {
		if e.IsDir() || keep[e.Name()] || !(strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), ".md")) {
			continue
		}
		content, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("apigen: read %s: %w", e.Name(), err)
		}
		if owned(content) && !(stubsOnly && isStub(content)) {
			stale = append(stale, e.Name())
		}
	}
	return stale, nil
}

// isStub reports whether content is the build-ignored stub WriteFiles leaves
// for a stale file go generate was about to read.
func isStub(content []byte) bool {
	first, _, _ := bytes.Cut(content, []byte("\n"))
	return bytes.Contains(first, []byte(generatedMarker+": stale file")) && bytes.Contains(content, []byte("\n//go:build ignore\n"))
}

// unreadByGenerate returns a test of whether go generate, running the
// command now ($GOFILE in $PWD), has yet to read the named file of dir: it
// reads a package's files in name order, the build-ignored ones excepted.
func unreadByGenerate(dir string) func(name string) bool {
	gofile := os.Getenv("GOFILE")
	wd, err := os.Getwd()
	if gofile == "" || err != nil {
		return func(string) bool { return false }
	}
	same := false
	if a, err := filepath.Abs(dir); err == nil {
		same = filepath.Clean(a) == filepath.Clean(wd)
	}
	return func(name string) bool {
		if !same || !strings.HasSuffix(name, ".go") || name < gofile {
			return false
		}
		content, err := os.ReadFile(filepath.Join(dir, name))
		return err == nil && !isStub(content)
	}
}

// packageClause returns the package name of the Go file at path, or "p".
func packageClause(path string) string {
	content, err := os.ReadFile(path)
	if err != nil {
		return "p"
	}
	for line := range strings.Lines(string(content)) {
		if name, ok := strings.CutPrefix(line, "package "); ok {
			if f := strings.Fields(name); len(f) > 0 && naming.IsIdent(f[0]) {
				return f[0]
			}
		}
	}
	return "p"
}
