package roundtrip

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/allsource-go/allsource/generator"
)

// driverDir is the directory of the driver program inside the module.
const driverDir = "roundtripdriver"

// request is one instance for the driver: the registry key of a type, the
// instance's text, and whether it is valid (then it is encoded again).
type request struct {
	Type  string `json:"type"`
	In    string `json:"in"`
	Valid bool   `json:"valid"`
}

// result is what the driver did with one request: the first decode (its
// error or panic), the encoding of the decoded value, then the same for
// decoding that output again.
type result struct {
	Err    string  `json:"err,omitempty"`
	Panic  string  `json:"panic,omitempty"`
	Out    *string `json:"out,omitempty"`
	MErr   string  `json:"merr,omitempty"`
	Err2   string  `json:"err2,omitempty"`
	Panic2 string  `json:"panic2,omitempty"`
	Out2   *string `json:"out2,omitempty"`
	MErr2  string  `json:"merr2,omitempty"`
	// RErr, RPanic and ROut are the decode with runtime.UnmarshalJSON, the
	// path generated clients take for response bodies (it skips the
	// syntax check json.Unmarshal makes first), and the encoding of its
	// result.
	RErr   string  `json:"rerr,omitempty"`
	RPanic string  `json:"rpanic,omitempty"`
	ROut   *string `json:"rout,omitempty"`
}

// typeKey is the registry key of a Go type: import path, dot, type name.
func typeKey(importPath, goName string) string { return importPath + "." + goName }

// driverSource returns the driver program for the given types, keyed by
// import path. It reads requests as JSON lines on stdin and writes one
// result line per request on stdout, flushed at once, so that a crash loses
// nothing that came before it.
func driverSource(types map[string][]string, runtimeImport string) ([]byte, error) {
	paths := make([]string, 0, len(types))
	for p := range types {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b bytes.Buffer
	b.WriteString(`// Command roundtripdriver decodes and re-encodes instances with generated
// types for the round-trip test. It is written by that test.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime/debug"
	"strings"

	rt `)
	fmt.Fprintf(&b, "%q\n", runtimeImport)
	for i, p := range paths {
		fmt.Fprintf(&b, "\tt%d %q\n", i, p)
	}
	b.WriteString(")\n\nvar registry = map[string]func() any{\n")
	for i, p := range paths {
		for _, name := range types[p] {
			fmt.Fprintf(&b, "\t%q: func() any { return new(t%d.%s) },\n", typeKey(p, name), i, name)
		}
	}
	b.WriteString("}\n" + driverBody)
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("driver source: %w", err)
	}
	return src, nil
}

const driverBody = `
type request struct {
	Type  string ` + "`json:\"type\"`" + `
	In    string ` + "`json:\"in\"`" + `
	Valid bool   ` + "`json:\"valid\"`" + `
}

type result struct {
	Err    string  ` + "`json:\"err,omitempty\"`" + `
	Panic  string  ` + "`json:\"panic,omitempty\"`" + `
	Out    *string ` + "`json:\"out,omitempty\"`" + `
	MErr   string  ` + "`json:\"merr,omitempty\"`" + `
	Err2   string  ` + "`json:\"err2,omitempty\"`" + `
	Panic2 string  ` + "`json:\"panic2,omitempty\"`" + `
	Out2   *string ` + "`json:\"out2,omitempty\"`" + `
	MErr2  string  ` + "`json:\"merr2,omitempty\"`" + `
	RErr   string  ` + "`json:\"rerr,omitempty\"`" + `
	RPanic string  ` + "`json:\"rpanic,omitempty\"`" + `
	ROut   *string ` + "`json:\"rout,omitempty\"`" + `
}

func main() {
	dec := json.NewDecoder(bufio.NewReaderSize(os.Stdin, 1<<20))
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for {
		var req request
		if err := dec.Decode(&req); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "roundtripdriver:", err)
			os.Exit(2)
		}
		var res result
		if newT, ok := registry[req.Type]; !ok {
			res.Err = "roundtripdriver: unknown type " + req.Type
		} else {
			res = roundTrip(newT, req)
		}
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, "roundtripdriver:", err)
			os.Exit(2)
		}
		if err := out.Flush(); err != nil {
			os.Exit(2)
		}
	}
}

func roundTrip(newT func() any, req request) (res result) {
	rv, err, p := decodeWith(rt.UnmarshalJSON, newT, []byte(req.In))
	res.RErr, res.RPanic = errText(err), p
	if err == nil && p == "" && req.Valid {
		if b, err, p := encode(rv); err == nil && p == "" {
			s := string(b)
			res.ROut = &s
		}
	}
	v, err, p := decode(newT, []byte(req.In))
	res.Err, res.Panic = errText(err), p
	if err != nil || p != "" || !req.Valid {
		return res
	}
	b, err, p := encode(v)
	if err != nil || p != "" {
		res.MErr = errText(err) + p
		return res
	}
	s := string(b)
	res.Out = &s
	v2, err, p := decode(newT, b)
	res.Err2, res.Panic2 = errText(err), p
	if err != nil || p != "" {
		return res
	}
	b2, err, p := encode(v2)
	if err != nil || p != "" {
		res.MErr2 = errText(err) + p
		return res
	}
	s2 := string(b2)
	res.Out2 = &s2
	return res
}

// decode decodes data with json.Unmarshal, as a user of the generated
// types would. A generated name that is an alias of a standard library type
// (a date-time schema is time.Time) decodes as that type does under
// encoding/json, which no generated code takes part in (time.Time refuses a
// timestamp written with escapes): such a type is decoded the way generated
// clients decode a body, with runtime.UnmarshalJSON.
func decode(newT func() any, data []byte) (v any, err error, p string) {
	if path := reflect.TypeOf(newT()).Elem().PkgPath(); path != "" && !strings.Contains(strings.SplitN(path, "/", 2)[0], ".") {
		return decodeWith(rt.UnmarshalJSON, newT, data)
	}
	return decodeWith(json.Unmarshal, newT, data)
}

func decodeWith(unmarshal func([]byte, any) error, newT func() any, data []byte) (v any, err error, p string) {
	defer func() {
		if r := recover(); r != nil {
			p = panicText(r)
		}
	}()
	v = newT()
	err = unmarshal(data, v)
	return v, err, ""
}

func encode(v any) (b []byte, err error, p string) {
	defer func() {
		if r := recover(); r != nil {
			p = panicText(r)
		}
	}()
	b, err = json.Marshal(v)
	return b, err, ""
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	if s := err.Error(); s != "" {
		return s
	}
	return "(error with empty text)"
}

// panicText is the panic value and the frames from the panic on.
func panicText(r any) string {
	lines := strings.Split(string(debug.Stack()), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			lines = lines[i+2:]
			break
		}
	}
	if len(lines) > 8 {
		lines = lines[:8]
	}
	return fmt.Sprintf("panic: %v\n%s", r, strings.Join(lines, "\n"))
}
`

// buildDriver writes the driver for types into the module at moduleDir and
// builds it; it returns the program's path.
func buildDriver(ctx context.Context, moduleDir string, types map[string][]string) (string, error) {
	src, err := driverSource(types, generator.DefaultRuntimeImport)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(moduleDir, driverDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("driver: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		return "", fmt.Errorf("driver: %w", err)
	}
	bin := filepath.Join(dir, "roundtripdriver")
	// Without symbol tables the large driver links much faster.
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags=-s -w", "-o", bin, "./"+driverDir)
	cmd.Dir = moduleDir
	cmd.Env = goEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("driver: go build: %w\n%s", err, Shorten(string(out), 4000))
	}
	return bin, nil
}

func goEnv() []string {
	return append(os.Environ(), "GOWORK=off", "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod -trimpath"))
}

// drive runs the driver over reqs and returns one result per request. When
// the driver dies (a stack overflow or another fatal error that recover
// cannot stop), the request it died on gets a result whose Panic holds the
// end of the driver's error output, and the driver is started again on the
// requests after it.
func drive(ctx context.Context, bin string, reqs []request) ([]result, error) {
	var results []result
	for len(results) < len(reqs) {
		rest := reqs[len(results):]
		got, crash, err := driveOnce(ctx, bin, rest)
		if err != nil {
			return nil, err
		}
		results = append(results, got...)
		if len(got) < len(rest) {
			if crash == "" {
				crash = "the driver stopped without a result"
			}
			results = append(results, result{Panic: "fatal: " + crash})
		}
	}
	return results, nil
}

func driveOnce(ctx context.Context, bin string, reqs []request) (results []result, crash string, err error) {
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	enc.SetEscapeHTML(false)
	for _, r := range reqs {
		if err := enc.Encode(r); err != nil {
			return nil, "", fmt.Errorf("driver input: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", fmt.Errorf("driver: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("driver: %w", err)
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			_ = cmd.Wait()
			return nil, "", fmt.Errorf("driver output: %w", err)
		}
		results = append(results, r)
	}
	scanErr := sc.Err()
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return nil, "", ctx.Err()
	}
	if scanErr != nil {
		return nil, "", fmt.Errorf("driver output: %w", scanErr)
	}
	var exit *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exit) {
		return nil, "", fmt.Errorf("driver: %w", waitErr)
	}
	if len(results) == len(reqs) {
		return results, "", nil
	}
	return results, firstLines(stderr.String(), 6), nil
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
