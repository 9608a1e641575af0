package generator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

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
	d := Diagnostic{File: file, Line: 1, Column: 1}
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		d.Line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			d.Column, _ = strconv.Atoi(m[2])
		}
	}
	d.Message = what + ": " + err.Error()
	return &SpecError{Diagnostic: d, Err: err}
}

// load reads the document at path (OpenAPI 3.x, or Swagger 2.0 converted to
// 3.0), resolving references into other files and recording origins.
func load(ctx context.Context, path string) (*openapi3.T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &SpecError{Diagnostic: Diagnostic{File: path, Message: "cannot read spec: " + unwrapPathError(err)}, Err: err}
	}
	var head struct {
		Swagger string `json:"swagger"`
		OpenAPI string `json:"openapi"`
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, specError(path, err, "cannot parse spec")
	}
	if err := json.Unmarshal(js, &head); err != nil {
		return nil, specError(path, err, "spec is not an object with a version")
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	loader.Context = ctx
	loc := &url.URL{Path: filepath.ToSlash(path)}
	var doc *openapi3.T
	switch {
	case head.Swagger != "":
		if head.Swagger != "2.0" {
			return nil, &SpecError{Diagnostic: Diagnostic{File: path, Line: 1, Column: 1, Message: fmt.Sprintf("unsupported swagger version %q", head.Swagger)}}
		}
		var doc2 openapi2.T
		if err := json.Unmarshal(js, &doc2); err != nil {
			return nil, specError(path, err, "cannot read Swagger 2.0 document")
		}
		doc, err = openapi2conv.ToV3WithLoader(&doc2, loader, loc)
		if err != nil {
			return nil, specError(path, err, "cannot convert Swagger 2.0 document")
		}
	case head.OpenAPI != "":
		loader.IncludeOrigin = true
		doc, err = loader.LoadFromDataWithPath(data, loc)
		if err != nil {
			return nil, specError(path, err, "cannot load spec")
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
