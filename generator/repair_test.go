package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// repairCases are the specs of testdata/repair, each showing one kind of
// repair; the warnings each gives are in <spec>.warnings.txt (go test -run
// TestRepair -update rewrites them).
var repairCases = []string{
	"scalars.yaml", "tuple.json", "paramcontent.yaml", "refs.yaml", "dupkeys.yaml",
	"swagger.yaml", "external.yaml", "values.yaml", "slips.yaml",
}

func repairConfig(name string) Config {
	pkg := strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".json")
	return Config{Spec: filepath.Join("testdata", "repair", name), Package: pkg, Source: name}
}

// TestRepair generates every repair spec and compares its warnings, each
// with file, line and column, with the expected ones.
func TestRepair(t *testing.T) {
	for _, name := range repairCases {
		t.Run(name, func(t *testing.T) {
			cfg := repairConfig(name)
			res, err := Generate(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, d := range res.Warnings {
				got.WriteString(d.String() + "\n")
			}
			wantFile := cfg.Spec + ".warnings.txt"
			if *update {
				if err := os.WriteFile(wantFile, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("warnings:\n%s\nwant:\n%s", got.String(), want)
			}
		})
	}
}

// TestRepairBuild compiles and vets the packages the repaired specs give.
func TestRepairBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the generated packages with the go command")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	gomod := "module repair.test\n\ngo 1.26\n\nrequire github.com/allsource-go/allsource v0.0.0\n\nreplace github.com/allsource-go/allsource => " + root + "\n"
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range repairCases {
		cfg := repairConfig(name)
		res, err := Generate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteFiles(filepath.Join(mod, cfg.Package), res.Files); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestRepairKeepsRefusals checks that what cannot be mended soundly is still
// refused, with file and line.
func TestRepairKeepsRefusals(t *testing.T) {
	cases := []struct {
		name, content, want string
		line                int
	}{
		// Two different types for one member: no value can be preferred.
		{"conflict.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: object\n      properties:\n        a:\n          type: string\n          type: integer\n", "already defined", 11},
		// A default that contradicts its type.
		{"default.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: integer\n      default: amongus\n", "default value \"amongus\"", 6},
		// One parameter declared twice: no request can carry both.
		{"dupparam.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - {name: limit, in: query, schema: {type: integer}}\n        - {name: limit, in: query, schema: {type: string}}\n      responses:\n        '204': {description: done}\n", "query parameter \"limit\" is declared twice for GET /a", 8},
		// An alias bomb: the repair stage compares the duplicate values
		// without expanding them, and the loader refuses the aliasing.
		{"bomb.yaml", aliasBomb(), "excessive aliasing", 1},
		// The same in a Swagger 2.0 document, whose conversion keeps no
		// line: the message names the file alone.
		{"default2.yaml", "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /a/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, type: integer, default: {a: b}}\n      responses:\n        '204': {description: done}\n", "default value {\"a\":\"b\"}", 0},
		// Names in an integer enum: no number is meant.
		{"intenum.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: integer\n      enum: [low, high]\n", "enum value \"low\"", 6},
		// A version that is an object has no text to use.
		{"version.yaml", "openapi: 3.0.3\ninfo:\n  title: t\n  version: {major: 1}\npaths: {}\n", "cannot load spec", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeSpec(t, c.name, c.content)
			_, err := Generate(context.Background(), Config{Spec: p, Package: "p"})
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a *SpecError", err)
			}
			if !strings.Contains(se.Message, c.want) || se.Line != c.line || se.File != p {
				t.Errorf("got %s, want %s:%d: ...%s...", se, p, c.line, c.want)
			}
			if c.line == 0 && se.Error() != p+": "+se.Message {
				t.Errorf("got %q, want the file and the message alone", se.Error())
			}
		})
	}
}

// TestEmitLines checks that the mended text reads back as the same tree,
// every node on its line.
func TestEmitLines(t *testing.T) {
	src := []byte(`openapi: 3.0.3 # comment
info:
  title: "quoted: text"
  version: '1'
  description: |
    two
    lines
base: &base
  a: 1
  b: [x, "y z", null, true, 2.5, 0x1F]
derived:
  <<: *base
  c: ~
empty: {}
list: []
`)
	var want yaml.Node
	if err := yaml.Unmarshal(src, &want); err != nil {
		t.Fatal(err)
	}
	out := emitLines(want.Content[0])
	var got yaml.Node
	if err := yaml.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var a, b any
	if err := want.Decode(&a); err != nil {
		t.Fatal(err)
	}
	if err := got.Decode(&b); err != nil {
		t.Fatal(err)
	}
	if !equalYAML(a, b) {
		t.Errorf("read back as %v, want %v\n%s", b, a, out)
	}
	var walk func(w, g *yaml.Node)
	walk = func(w, g *yaml.Node) {
		if w.Line != g.Line {
			t.Errorf("node %q on line %d, want %d", w.Value, g.Line, w.Line)
		}
		for i := range w.Content {
			if i < len(g.Content) {
				walk(w.Content[i], g.Content[i])
			}
		}
	}
	walk(want.Content[0], got.Content[0])
}

func equalYAML(a, b any) bool {
	x, err1 := yaml.Marshal(a)
	y, err2 := yaml.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// aliasBomb returns a spec whose duplicate example key holds an alias that
// expands to 2^40 scalars.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: t, version: 1}\npaths: {}\nx-a0: &a0 [x, x]\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, "x-a%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	b.WriteString("components:\n  schemas:\n    A:\n      example: *a39\n      example: *a39\n")
	return b.String()
}

// BenchmarkRepair measures the repair stage (YAML tree, walk, mended text)
// on the corpus's largest document it mends, libopenapi/stripe-old.yaml (a
// key written twice), beside the loader reading the mended text: the
// repair stage's cost relative to the load it makes possible.
func BenchmarkRepair(b *testing.B) {
	p := filepath.Join("..", "..", "shared", "corpus", "libopenapi", "stripe-old.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		b.Skipf("corpus document not found (../shared/corpus beside the repository): %v", err)
	}
	ctx := context.Background()
	b.Run("repair", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := newRepairer(false)
			if _, err := r.parse(p, data); err != nil {
				b.Fatal(err)
			}
			if _, ok := r.repaired(p); !ok {
				b.Fatal("nothing repaired")
			}
		}
	})
	r := newRepairer(false)
	if _, err := r.parse(p, data); err != nil {
		b.Fatal(err)
	}
	fixed, _ := r.repaired(p)
	b.Run("load-repaired", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := loadData(ctx, p, fixed, readRefs(ctx, false, r.repaired)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
