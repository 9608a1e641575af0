package generator

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/yaml"
)

// lineRE finds the line number in parser error messages.
var lineRE = regexp.MustCompile(`line (\d+)(?:, column (\d+))?`)

// specError builds a *SpecError for file from err, taking the line from the
// parser's message when it names one.
func specError(file string, err error, what string) *SpecError {
	return specErrorIn(file, nil, err, what)
}

// quotedRE finds the quoted names (references, keys) in loader messages.
var quotedRE = regexp.MustCompile(`"([^"\s]{1,200})"`)

// specErrorIn is specError for a document whose text is data: when the
// message names no line, the first place data mentions a name the message
// quotes (a reference that does not resolve, say) gives it.
func specErrorIn(file string, data []byte, err error, what string) *SpecError {
	d := Diagnostic{File: file, Line: 1, Column: 1}
	msg := err.Error()
	if i := strings.Index(msg, ", yaml error: "); i >= 0 && strings.HasPrefix(msg, "failed to unmarshal data: json error: ") && (!isJSON(data) || isRepaired(data)) {
		// A YAML document: the JSON attempt's complaint is noise.
		msg = "failed to unmarshal data: " + msg[i+len(", yaml error: "):]
	}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		d.Line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			d.Column, _ = strconv.Atoi(m[2])
		}
	} else if data != nil {
		for _, q := range quotedRE.FindAllStringSubmatch(msg, -1) {
			if line, col, ok := locate(data, q[1]); ok {
				d.Line, d.Column = line, col
				break
			}
		}
	}
	d.Message = what + ": " + msg
	return &SpecError{Diagnostic: d, Err: err}
}

// locate returns the line and column of the first mention of name in data,
// preferring a mention at the end of a reference ("/name").
func locate(data []byte, name string) (line, col int, ok bool) {
	i := -1
	if !strings.ContainsAny(name, "#/") {
		for _, end := range []string{"'", "\"", "\n"} {
			if j := bytes.Index(data, []byte("/"+name+end)); j >= 0 && (i < 0 || j < i) {
				i = j + 1
			}
		}
	}
	if i < 0 {
		i = bytes.Index(data, []byte(name))
	}
	if i < 0 {
		return 0, 0, false
	}
	before := data[:i]
	line = bytes.Count(before, []byte("\n")) + 1
	col = i - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col, true
}

// load reads the document at path (OpenAPI 3.x, or Swagger 2.0 converted to
// 3.0), resolving references into other files and recording origins. When
// the loader refuses the document, the repair stage (repair.go) mends what it
// soundly can and the mended text is loaded instead; its warnings are
// returned. A document the repair stage cannot mend keeps the loader's
// refusal.
//
// With force, the repair stage runs even on a document the loader accepts
// (the model refused it: a default or enum value of the wrong type, say);
// repaired then reports whether it changed anything.
func load(ctx context.Context, path string, remote, force bool) (*openapi3.T, []Diagnostic, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, false, &SpecError{Diagnostic: Diagnostic{File: path, Message: "cannot read spec: " + unwrapPathError(err)}, Err: err}
	}
	doc, err := loadData(ctx, path, data, readRefs(ctx, remote, nil))
	if err == nil && !force && !hasOperationRefs(doc) {
		return doc, nil, false, nil
	}
	var se *SpecError
	if err != nil && (!errors.As(err, &se) || ctx.Err() != nil) {
		return nil, nil, false, err
	}
	r := newRepairer(remote)
	if _, perr := r.parse(path, data); perr != nil || !r.changed() {
		if err == nil {
			return doc, nil, false, nil
		}
		return nil, nil, false, err
	}
	if fixed, ok := r.repaired(path); ok {
		data = fixed
	}
	doc, rerr := loadData(ctx, path, data, readRefs(ctx, remote, r.repaired))
	if rerr != nil {
		return nil, nil, false, rerr
	}
	slices.SortStableFunc(r.warnings, func(a, b Diagnostic) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return doc, r.warnings, true, nil
}

// loadData loads the document at path whose content is data, reading the
// files it references with read.
func loadData(ctx context.Context, path string, data []byte, read openapi3.ReadFromURIFunc) (*openapi3.T, error) {
	newLoader := func() *openapi3.Loader {
		l := openapi3.NewLoader()
		l.IsExternalRefsAllowed = true
		l.Context = ctx
		l.ReadFromURIFunc = read
		return l
	}
	loader := newLoader()
	loc := &url.URL{Path: filepath.ToSlash(path)}
	var doc *openapi3.T
	var err error
	switch detectVersion(data) {
	case "swagger":
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, specError(path, err, "cannot parse spec")
		}
		var doc2 openapi2.T
		if err := json.Unmarshal(dropPathExtensions(js), &doc2); err != nil {
			return nil, specError(path, err, "cannot read Swagger 2.0 document")
		}
		if doc2.Swagger != "2.0" {
			return nil, &SpecError{Diagnostic: Diagnostic{File: path, Line: 1, Column: 1, Message: fmt.Sprintf("unsupported swagger version %q", doc2.Swagger)}}
		}
		doc, err = openapi2conv.ToV3(&doc2)
		if err != nil {
			return nil, specErrorIn(path, data, err, "cannot convert Swagger 2.0 document")
		}
		if err := loader.ResolveRefsIn(doc, loc); err != nil {
			return nil, specErrorIn(path, data, err, "cannot resolve references of the converted Swagger 2.0 document")
		}
	case "openapi":
		loader.IncludeOrigin = true
		doc, err = loader.LoadFromDataWithPath(withOrigins(data), loc)
		if err != nil && isJSON(data) {
			// The YAML reading of a JSON document failed: load it as JSON,
			// without origins.
			loader = newLoader()
			doc, err = loader.LoadFromDataWithPath(data, loc)
		}
		if err != nil {
			return nil, specErrorIn(path, data, err, "cannot load spec")
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.") {
			return nil, &SpecError{Diagnostic: Diagnostic{File: path, Line: 1, Column: 1, Message: fmt.Sprintf("unsupported openapi version %q", doc.OpenAPI)}}
		}
	default:
		return nil, &SpecError{Diagnostic: Diagnostic{File: path, Line: 1, Column: 1, Message: "not an OpenAPI document: no \"openapi\" or \"swagger\" version field"}}
	}
	if doc == nil {
		return nil, &SpecError{Diagnostic: Diagnostic{File: path, Line: 1, Column: 1, Message: "empty document"}}
	}
	return doc, nil
}

func unwrapPathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

var (
	yamlSwaggerRE = regexp.MustCompile(`(?m)^["']?swagger["']?\s*:`)
	yamlOpenAPIRE = regexp.MustCompile(`(?m)^["']?openapi["']?\s*:`)
	jsonSwaggerRE = regexp.MustCompile(`"swagger"\s*:\s*"`)
	jsonOpenAPIRE = regexp.MustCompile(`"openapi"\s*:`)
)

// detectVersion tells a Swagger 2.0 document from an OpenAPI 3 one without
// parsing it: "swagger", "openapi", or "" for neither.
func detectVersion(data []byte) string {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		sw, oa := jsonSwaggerRE.FindIndex(data), jsonOpenAPIRE.FindIndex(data)
		switch {
		case sw != nil && (oa == nil || sw[0] < oa[0]):
			return "swagger"
		case oa != nil:
			return "openapi"
		}
		return ""
	}
	switch {
	case yamlSwaggerRE.Match(data):
		return "swagger"
	case yamlOpenAPIRE.Match(data):
		return "openapi"
	}
	return ""
}

// dropPathExtensions removes x- members of a Swagger document's paths
// object, which the Swagger model cannot hold.
func dropPathExtensions(js []byte) []byte {
	var top map[string]json.RawMessage
	if json.Unmarshal(js, &top) != nil {
		return js
	}
	var paths map[string]json.RawMessage
	if json.Unmarshal(top["paths"], &paths) != nil {
		return js
	}
	changed := false
	for k := range paths {
		if strings.HasPrefix(k, "x-") {
			delete(paths, k)
			changed = true
		}
	}
	if !changed {
		return js
	}
	p, err := json.Marshal(paths)
	if err != nil {
		return js
	}
	top["paths"] = p
	out, err := json.Marshal(top)
	if err != nil {
		return js
	}
	return out
}

// isRepaired reports whether data is text the repair stage wrote: the
// loader's JSON attempt at it says nothing of use.
func isRepaired(data []byte) bool {
	return bytes.HasSuffix(data, []byte(repairedEnd))
}

func isJSON(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// withOrigins makes a JSON document take the loader's YAML path, the one
// that records file, line and column of every element: a leading byte order
// mark makes the JSON decoder give up at once, while the YAML decoder skips
// it, so the document and its line numbers stay the same.
func withOrigins(data []byte) []byte {
	if !isJSON(data) {
		return data
	}
	out := make([]byte, 0, len(data)+3)
	out = append(out, "\ufeff"...)
	return append(out, data...)
}

// readRefs returns how the loader reads the files $ref names: local files,
// each read once per generation, and http(s) URLs only when remote is set.
// Unlike the loader's default it keeps no cache between generations. When
// repaired is set, a local file it has mended text for is read as that text.
func readRefs(ctx context.Context, remote bool, repaired func(path string) ([]byte, bool)) openapi3.ReadFromURIFunc {
	cache := map[string][]byte{}
	client := &http.Client{Timeout: 30 * time.Second}
	return func(l *openapi3.Loader, u *url.URL) ([]byte, error) {
		key := u.String()
		if data, ok := cache[key]; ok {
			return data, nil
		}
		var data []byte
		var err error
		switch u.Scheme {
		case "http", "https":
			if !remote {
				return nil, fmt.Errorf("reference to %s: remote references are not allowed (Config.AllowRemoteRefs)", u.Redacted())
			}
			req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
			if rerr != nil {
				return nil, rerr
			}
			resp, rerr := client.Do(req)
			if rerr != nil {
				return nil, rerr
			}
			defer resp.Body.Close()
			if resp.StatusCode > 299 {
				return nil, fmt.Errorf("reference to %s: %s", u.Redacted(), resp.Status)
			}
			data, err = io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		case "", "file":
			if fixed, ok := repairedFile(repaired, u); ok {
				data = withOrigins(fixed)
				break
			}
			data, err = openapi3.ReadFromFile(l, u)
		default:
			return nil, fmt.Errorf("reference to %s: unsupported scheme %q", u.Redacted(), u.Scheme)
		}
		if err != nil {
			return nil, err
		}
		cache[key] = data
		return data, nil
	}
}

// repairedFile returns the mended text of the local file u names, if any.
func repairedFile(repaired func(path string) ([]byte, bool), u *url.URL) ([]byte, bool) {
	if repaired == nil {
		return nil, false
	}
	return repaired(filepath.FromSlash(u.Path))
}

// hasOperationRefs reports whether an operation of doc was written as a
// $ref, which the loader keeps as an extension of an empty operation: the
// repair stage then copies the operations in.
func hasOperationRefs(doc *openapi3.T) bool {
	if doc.Paths == nil {
		return false
	}
	for _, item := range doc.Paths.Map() {
		if item == nil {
			continue
		}
		for _, op := range item.Operations() {
			if _, ok := op.Extensions["$ref"]; ok {
				return true
			}
		}
	}
	return false
}
