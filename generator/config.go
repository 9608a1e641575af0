package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oasdiff/yaml"
)

// fileConfig is the YAML form of a Config (gen.yaml).
type fileConfig struct {
	Spec          string            `json:"spec"`
	Package       string            `json:"package"`
	Output        string            `json:"output,omitempty"`
	Runtime       string            `json:"runtime,omitempty"`
	ImportMapping map[string]string `json:"import-mapping,omitempty"`
	Command       string            `json:"command,omitempty"`
	RemoteRefs    bool              `json:"allow-remote-refs,omitempty"`
}

// LoadConfig reads a config file (gen.yaml):
//
//	spec: ../../spec/core.yaml      # root document, relative to the config file
//	package: core                   # Go package name
//	output: .                       # output directory, relative to the config file (default ".")
//	runtime: github.com/allsource-go/allsource/runtime   # optional
//	import-mapping:                 # optional: $ref file -> Go import path
//	  common.yaml: github.com/allsource-go/allsource/gen/common
//	command: go tool apigen         # optional: the go:generate command in doc.go
//	allow-remote-refs: false        # optional: let $ref name http(s) URLs
//
// Paths in the returned Config are joined to the config file's directory;
// Source keeps the spec path as written, for generated headers.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("apigen: read config: %w", err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return Config{}, specError(path, err, "cannot parse config")
	}
	var fc fileConfig
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return Config{}, &SpecError{Diagnostic: Diagnostic{File: path, Line: 1, Column: 1, Message: "invalid config: " + err.Error()}, Err: err}
	}
	if fc.Spec == "" || fc.Package == "" {
		return Config{}, &SpecError{Diagnostic: Diagnostic{File: path, Line: 1, Column: 1, Message: "invalid config: spec and package are required"}}
	}
	dir := filepath.Dir(path)
	out := fc.Output
	if out == "" {
		out = "."
	}
	return Config{
		Spec:            filepath.Join(dir, filepath.FromSlash(fc.Spec)),
		Package:         fc.Package,
		Output:          filepath.Join(dir, filepath.FromSlash(out)),
		RuntimeImport:   fc.Runtime,
		ImportMapping:   fc.ImportMapping,
		Source:          filepath.ToSlash(fc.Spec),
		ConfigFile:      filepath.Base(path),
		Command:         fc.Command,
		AllowRemoteRefs: fc.RemoteRefs,
	}, nil
}

// ConfigYAML renders cfg as a config file whose paths are relative to the
// directory holding it.
func ConfigYAML(spec, pkg, runtime, command string, mapping map[string]string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# apigen configuration: go generate runs apigen with it (see doc.go).\n")
	fmt.Fprintf(&b, "spec: %s\npackage: %s\noutput: .\n", quoteYAML(filepath.ToSlash(spec)), pkg)
	if runtime != "" {
		fmt.Fprintf(&b, "runtime: %s\n", quoteYAML(runtime))
	}
	if command != "" {
		fmt.Fprintf(&b, "command: %s\n", quoteYAML(command))
	}
	if len(mapping) > 0 {
		b.WriteString("import-mapping:\n")
		keys := make([]string, 0, len(mapping))
		for k := range mapping {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %s\n", quoteYAML(k), quoteYAML(mapping[k]))
		}
	}
	return []byte(b.String())
}

func quoteYAML(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}
