// Command apigen generates a typed Go client from an OpenAPI document.
//
// Usage:
//
//	apigen -config gen.yaml [-check]
//	apigen -spec api.yaml -package api [-o dir] [-runtime importpath] [-import-mapping file=importpath,...] [-check]
//	apigen init -spec path/to/api.yaml -package api [-command "go tool apigen"] [dir]
//
// With -check, apigen writes nothing and exits with status 1, listing the
// files, when the output on disk differs from what it would generate.
// init writes gen.yaml and a doc.go with the go:generate line into dir
// (default "."), then generates the package.
//
// In a package, run it with go generate:
//
//	//go:generate go run github.com/allsource-go/allsource/cmd/apigen -config gen.yaml
//
// or, after go get -tool github.com/allsource-go/allsource/cmd/apigen, with
// go tool apigen.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/allsource-go/allsource/generator"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command and returns its exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "init" {
		return runInit(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("apigen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config file (gen.yaml)")
	spec := fs.String("spec", "", "root OpenAPI or Swagger document")
	pkg := fs.String("package", "", "Go package name")
	out := fs.String("o", ".", "output directory")
	rt := fs.String("runtime", "", "import path of the runtime package")
	mapping := fs.String("import-mapping", "", "comma-separated file=importpath pairs for referenced spec files")
	check := fs.Bool("check", false, "write nothing; exit 1 when the output on disk is stale")
	remote := fs.Bool("allow-remote-refs", false, "let $ref name http(s) URLs (with -spec; in a config file: allow-remote-refs: true)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var cfg generator.Config
	if *configPath != "" {
		c, err := generator.LoadConfig(*configPath)
		if err != nil {
			return fail(stderr, err)
		}
		cfg = c
	} else {
		m, err := parseMapping(*mapping)
		if err != nil {
			return fail(stderr, err)
		}
		cfg = generator.Config{Spec: *spec, Package: *pkg, Output: *out, RuntimeImport: *rt, ImportMapping: m, AllowRemoteRefs: *remote}
	}
	return generate(ctx, cfg, *check, stdout, stderr)
}

func generate(ctx context.Context, cfg generator.Config, check bool, stdout, stderr io.Writer) int {
	res, err := generator.Generate(ctx, cfg)
	if err != nil {
		return fail(stderr, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, w.String())
	}
	if check {
		diff, err := generator.Diff(cfg.Output, res.Files)
		if err != nil {
			return fail(stderr, err)
		}
		if len(diff) > 0 {
			for _, name := range diff {
				fmt.Fprintf(stderr, "%s: stale generated file\n", filepath.Join(cfg.Output, name))
			}
			return 1
		}
		return 0
	}
	if err := generator.WriteFiles(cfg.Output, res.Files); err != nil {
		return fail(stderr, err)
	}
	return 0
}

func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apigen init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("spec", "", "root OpenAPI or Swagger document")
	pkg := fs.String("package", "", "Go package name")
	rt := fs.String("runtime", "", "import path of the runtime package")
	mapping := fs.String("import-mapping", "", "comma-separated file=importpath pairs for referenced spec files")
	command := fs.String("command", "", `go:generate command in doc.go (default "`+generator.DefaultCommand+`"; "go tool apigen" after go get -tool)`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir := "."
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	if *spec == "" || *pkg == "" {
		fmt.Fprintln(stderr, "apigen init: -spec and -package are required")
		return 2
	}
	m, err := parseMapping(*mapping)
	if err != nil {
		return fail(stderr, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(stderr, err)
	}
	rel := *spec
	absDir, err1 := filepath.Abs(dir)
	absSpec, err2 := filepath.Abs(*spec)
	if err1 == nil && err2 == nil {
		if r, err := filepath.Rel(absDir, absSpec); err == nil {
			rel = r
		}
	}
	cfgPath := filepath.Join(dir, "gen.yaml")
	if _, err := os.Stat(cfgPath); err == nil {
		fmt.Fprintf(stderr, "apigen init: %s exists; not overwritten\n", cfgPath)
		return 1
	}
	if err := os.WriteFile(cfgPath, generator.ConfigYAML(filepath.ToSlash(rel), *pkg, *rt, *command, m), 0o644); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", cfgPath)
	cfg, err := generator.LoadConfig(cfgPath)
	if err != nil {
		return fail(stderr, err)
	}
	return generate(ctx, cfg, false, stdout, stderr)
}

func parseMapping(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	m := make(map[string]string)
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("apigen: -import-mapping: %q is not file=importpath", pair)
		}
		m[k] = v
	}
	return m, nil
}

func fail(stderr io.Writer, err error) int {
	var se *generator.SpecError
	if errors.As(err, &se) {
		d := se.Diagnostic
		fmt.Fprintf(stderr, "%s:%d:%d: error: %s\n", d.File, d.Line, d.Column, d.Message)
		return 1
	}
	fmt.Fprintln(stderr, err)
	return 1
}
