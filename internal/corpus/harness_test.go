package corpus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		name, data string
		want       Kind
		wantErr    bool
	}{
		{"a.json", `{"openapi": "3.0.3", "info": {}}`, KindOpenAPI, false},
		{"a.json", `{"info": {"x": [1, 2]}, "openapi": "3.1.0"}`, KindOpenAPI, false},
		{"a.json", `{"swagger": "2.0", "paths": {}}`, KindSwagger, false},
		{"a.json", `{"components": {"schemas": {}}}`, KindFragment, false},
		{"a.json", `[{"openapi": "3.0.0"}]`, KindFragment, false},
		{"a.json", `{"openapi": `, KindFragment, true},
		{"a.yaml", "openapi: 3.0.0\ninfo: {}\n", KindOpenAPI, false},
		{"a.yml", "info:\n  title: x\nswagger: '2.0'\n", KindSwagger, false},
		{"a.yaml", "type: object\nproperties:\n  openapi: {type: string}\n", KindFragment, false},
		{"a.yaml", "- openapi\n", KindFragment, false},
		{"a.yaml", "", KindFragment, false},
		{"a.yaml", "openapi: [\n", KindFragment, true},
	}
	for i, tt := range tests {
		got, err := Sniff(tt.name, []byte(tt.data))
		if (err != nil) != tt.wantErr {
			t.Errorf("%d: Sniff(%s, %q) error = %v, want error %v", i, tt.name, tt.data, err, tt.wantErr)
		}
		if got != tt.want {
			t.Errorf("%d: Sniff(%s, %q) = %v, want %v", i, tt.name, tt.data, got, tt.want)
		}
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"MANIFEST.txt":           "up/one abc src/a.yaml 123 -> part/a.yaml\nnot a manifest line\n",
		"part/a.yaml":            "openapi: 3.0.0\n",
		"part/b.json":            `{"swagger": "2.0"}`,
		"part/frag/schema.yaml":  "type: string\n",
		"part/notes.txt":         "openapi: 3.0.0\n",
		"part/broken.yaml":       "openapi: [\n",
		"invalid/x/c.json":       `{"openapi": "3.0.0"}`,
		"invalid/unreadable.yml": "openapi: [\n",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	docs, fragments, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantDocs := []Document{
		{Path: "invalid/unreadable.yml", Invalid: true},
		{Path: "invalid/x/c.json", Invalid: true},
		{Path: "part/a.yaml", Origin: "up/one"},
		{Path: "part/b.json", Swagger2: true},
	}
	if !reflect.DeepEqual(docs, wantDocs) {
		t.Errorf("documents:\n got %+v\nwant %+v", docs, wantDocs)
	}
	wantFragments := []string{"part/broken.yaml", "part/frag/schema.yaml"}
	if !reflect.DeepEqual(fragments, wantFragments) {
		t.Errorf("fragments = %v, want %v", fragments, wantFragments)
	}
}

func TestFindRepoRoot(t *testing.T) {
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "module github.com/allsource-go/allsource\n") {
		t.Errorf("%s/go.mod is not this module's", root)
	}
	mod := t.TempDir()
	deep := filepath.Join(mod, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := FindRepoRoot(deep); err != nil || got != mod {
		t.Errorf("FindRepoRoot(%s) = %q, %v; want %q", deep, got, err, mod)
	}
}

func TestParseKnownGaps(t *testing.T) {
	good := "# header comment\n\nreal-world/a.json   # generator: oneOf of arrays\nfeatures/b.yml #why\n"
	gaps, err := ParseKnownGaps("gaps", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"real-world/a.json": "generator: oneOf of arrays", "features/b.yml": "why"}
	if !reflect.DeepEqual(gaps, want) {
		t.Errorf("gaps = %v, want %v", gaps, want)
	}
	for _, bad := range []string{
		"real-world/a.json\n",
		"real-world/a.json #\n",
		"a.json # x\na.json # y\n",
		"a.json b.json # two\n",
	} {
		if _, err := ParseKnownGaps("gaps", []byte(bad)); err == nil {
			t.Errorf("ParseKnownGaps(%q) accepted a malformed list", bad)
		}
	}
}

func TestAttribute(t *testing.T) {
	known := map[string]bool{"p001": true, "p002": true, "p010": true}
	output := strings.Join([]string{
		"# corpusbuild/p002",
		"p002/client.go:12:3: undefined: Foo",
		"p002/client.go:13:3: too many errors",
		"# corpusbuild/p010",
		"vet: p010/types.go:4:2: struct field tag `json:x` not compatible with reflect.StructTag.Get",
		"package corpusbuild/p001 imports example.com/missing: cannot find module",
		"go: warning: something global",
		"",
	}, "\n")
	per, un := Attribute(output, "corpusbuild", known)
	want := map[string][]string{
		"p002": {"p002/client.go:12:3: undefined: Foo", "p002/client.go:13:3: too many errors"},
		"p010": {"vet: p010/types.go:4:2: struct field tag `json:x` not compatible with reflect.StructTag.Get"},
		"p001": {"package corpusbuild/p001 imports example.com/missing: cannot find module"},
	}
	// The global warning follows a header, so it lands with p010: lines
	// below a header belong to it until the next header.
	want["p010"] = append(want["p010"], "go: warning: something global")
	if !reflect.DeepEqual(per, want) {
		t.Errorf("per package:\n got %q\nwant %q", per, want)
	}
	if len(un) != 0 {
		t.Errorf("unattributed = %q, want none", un)
	}

	per, un = Attribute("# github.com/x/y\nx.go:1:1: broken\n# corpusbuild/p999\nboom\n", "corpusbuild", known)
	if len(per) != 0 {
		t.Errorf("attributed %q to packages, want nothing", per)
	}
	if len(un) != 4 {
		t.Errorf("unattributed = %q, want all 4 lines", un)
	}
}

// sourceGen is a Generator that writes fixed Go source per document path, to
// drive the build and vet steps of Run with known outcomes.
type sourceGen map[string]string

func (sourceGen) Name() string { return "source" }

func (g sourceGen) Generate(_ context.Context, job Job) error {
	src, ok := g[job.Doc.Path]
	switch {
	case !ok:
		return errors.New("refused\nsecond line")
	case src == "panic":
		panic("generator bug")
	}
	src = strings.ReplaceAll(src, "PKG", job.Package)
	return os.WriteFile(filepath.Join(job.Dir, "x.go"), []byte(src), 0o644)
}

func TestRunAttributesOutcomes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	gen := sourceGen{
		"ok.yaml":      "package PKG\n\n// V is fine.\nconst V = 1\n",
		"runtime.yaml": "package PKG\n\nimport \"github.com/allsource-go/allsource/runtime\"\n\n// O uses the runtime.\nvar O runtime.Opt[int]\n",
		"type.yaml":    "package PKG\n\nvar X int = \"s\"\n",
		"syntax.yaml":  "package PKG\n\nfunc {\n",
		"vet.yaml":     "package PKG\n\nimport \"fmt\"\n\n// F misuses Printf.\nfunc F() { fmt.Printf(\"%d\", \"s\") }\n",
		"panic.yaml":   "panic",
	}
	var docs []Document
	for _, p := range []string{"ok.yaml", "refused.yaml", "runtime.yaml", "type.yaml", "syntax.yaml", "vet.yaml", "panic.yaml"} {
		docs = append(docs, Document{Path: p})
	}
	rep, err := Run(context.Background(), gen, docs, Options{RepoRoot: root, CorpusDir: t.TempDir(), WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		stage Stage
		err   string
	}{
		"ok.yaml":      {StageOK, ""},
		"refused.yaml": {StageGenerate, "refused"},
		"runtime.yaml": {StageOK, ""},
		"type.yaml":    {StageBuild, "p004/x.go:3:"},
		"syntax.yaml":  {StageBuild, "p005/x.go:3:"},
		"vet.yaml":     {StageVet, "p006/x.go:6:"},
		"panic.yaml":   {StageGenerate, "panic: generator bug"},
	}
	for _, o := range rep.Outcomes {
		w := want[o.Doc.Path]
		if o.Stage != w.stage || !strings.Contains(o.Err, w.err) {
			t.Errorf("%s: stage %q, first error %q; want stage %q, error containing %q\n%s",
				o.Doc.Path, o.Stage, o.Err, w.stage, w.err, o.Output)
		}
	}
	if got, want := rep.Line("corpus"), "corpus: 2 of 7 specs compile (28.6%)"; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
}

func TestCheckRefusals(t *testing.T) {
	gen := sourceGen{"accepted.yaml": "package PKG\n", "panics.yaml": "panic"}
	docs := []Document{{Path: "refused.yaml"}, {Path: "accepted.yaml"}, {Path: "panics.yaml"}}
	got, err := CheckRefusals(context.Background(), gen, docs, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := []Refusal{
		{Doc: docs[0], Refused: true},
		{Doc: docs[1], Problem: "accepted, must be refused"},
		{Doc: docs[2], Problem: "panicked: generator bug"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CheckRefusals = %+v, want %+v", got, want)
	}
}

func TestReportSubset(t *testing.T) {
	rep := &Report{}
	for i, stage := range []Stage{StageOK, StageBuild, StageOK, StageGenerate} {
		rep.Outcomes = append(rep.Outcomes, Outcome{Doc: Document{Path: fmt.Sprintf("d%d/x.yaml", i%2)}, Stage: stage})
	}
	if got := rep.Line("x"); got != "x: 2 of 4 specs compile (50.0%)" {
		t.Errorf("Line = %q", got)
	}
	sub := rep.Subset(func(d Document) bool { return strings.HasPrefix(d.Path, "d0/") })
	if got := sub.Line("d0"); got != "d0: 2 of 2 specs compile (100.0%)" {
		t.Errorf("subset Line = %q", got)
	}
	if n := len(rep.Failures()); n != 2 {
		t.Errorf("Failures = %d, want 2", n)
	}
}
