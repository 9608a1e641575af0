package generator

import (
	"bytes"
	"context"
	"flag"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestGolden")

// goldenCase is one small spec of testdata/golden and the config it is
// generated with.
type goldenCase struct {
	name string
	cfg  Config
}

// goldenCases lists every feature spec; each directory holds spec.yaml and
// the expected output in out/.
func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join("testdata", "golden", e.Name())
		cfg := Config{Spec: filepath.Join(dir, "spec.yaml"), Package: e.Name() + "api", Source: "spec.yaml", Output: filepath.Join(dir, "out")}
		if e.Name() == "shared" {
			cfg.ImportMapping = map[string]string{"common.yaml": "golden.test/sharedcommon"}
			cases = append(cases, goldenCase{name: "sharedcommon", cfg: Config{
				Spec: filepath.Join(dir, "common.yaml"), Package: "sharedcommon", Source: "common.yaml", Output: filepath.Join(dir, "common")}})
		}
		cases = append(cases, goldenCase{name: e.Name() + "api", cfg: cfg})
	}
	return cases
}

// TestGolden generates every feature spec and compares the output with the
// files checked in under testdata/golden (go test -run TestGolden -update
// rewrites them).
func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			res, err := Generate(context.Background(), c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := WriteFiles(c.cfg.Output, res.Files); err != nil {
					t.Fatal(err)
				}
				var w bytes.Buffer
				for _, d := range res.Warnings {
					w.WriteString(d.String() + "\n")
				}
				if err := os.WriteFile(filepath.Join(c.cfg.Output, "warnings.txt"), w.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, f := range res.Files {
				if strings.HasSuffix(f.Name, ".go") {
					if formatted, err := format.Source(f.Content); err != nil || !bytes.Equal(formatted, f.Content) {
						t.Errorf("%s is not gofmt-clean: %v", f.Name, err)
					}
				}
			}
			diff, err := Diff(c.cfg.Output, res.Files)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range diff {
				t.Errorf("%s differs from the golden file; run go test ./generator -run TestGolden -update and review the diff", name)
			}
			want, err := os.ReadFile(filepath.Join(c.cfg.Output, "warnings.txt"))
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, d := range res.Warnings {
				got.WriteString(d.String() + "\n")
			}
			if got.String() != string(want) {
				t.Errorf("warnings:\n%s\nwant:\n%s", got.String(), want)
			}
		})
	}
}

// TestGoldenBuild compiles, vets and runs the behaviour tests of the golden
// packages in a scratch module that uses this repository's runtime.
func TestGoldenBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the golden packages with the go command")
	}
	root, err := filepath.Abs(filepath.Join("..", ""))
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	gomod := "module golden.test\n\ngo 1.26\n\nrequire github.com/allsource-go/allsource v0.0.0\n\nreplace github.com/allsource-go/allsource => " + root + "\n"
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
	for _, c := range goldenCases(t) {
		cfg := c.cfg
		cfg.Output = filepath.Join(mod, c.name)
		if c.name == "sharedapi" {
			cfg.ImportMapping = map[string]string{"common.yaml": "golden.test/sharedcommon"}
		}
		res, err := Generate(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteFiles(cfg.Output, res.Files); err != nil {
			t.Fatal(err)
		}
		// Behaviour tests of a golden package live beside its spec.
		src := filepath.Join(filepath.Dir(c.cfg.Spec), c.name+"_test.go.txt")
		if data, err := os.ReadFile(src); err == nil {
			if err := os.WriteFile(filepath.Join(cfg.Output, "behaviour_test.go"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}, {"test", "-count=1", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
