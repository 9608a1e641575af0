package corpus

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/allsource-go/allsource/generator"
)

// BenchmarkGenerate measures generation of the spec/ documents and of the
// largest corpus document (real-world/api.github.com.json), with this
// repository's generator (apigen) and with oapi-codegen v2 on the same input
// in the same run. Both sides load the document from disk on every iteration
// (parsing and reference resolution included) and produce their code in
// memory; neither writes files.
func BenchmarkGenerate(b *testing.B) {
	root, err := FindRepoRoot(".")
	if err != nil {
		b.Fatal(err)
	}
	// spec/ documents reference common.yaml, which is generated into its own
	// package; both generators are told so, as their commands would be.
	common := map[string]string{"common.yaml": "github.com/allsource-go/allsource/gen/common"}
	cases := []struct {
		name, spec, pkg string
		mapping         map[string]string
	}{
		{"spec-core", filepath.Join(root, "spec", "core.yaml"), "core", common},
		{"spec-query", filepath.Join(root, "spec", "query.yaml"), "query", common},
		{"github", filepath.Join(root, "..", "shared", "corpus", "real-world", "api.github.com.json"), "github", nil},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if _, err := os.Stat(c.spec); err != nil {
				b.Skipf("document not found: %v", err)
			}
			b.Run("apigen", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := generator.Generate(ctx, generator.Config{Spec: c.spec, Package: c.pkg, ImportMapping: c.mapping}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("oapi-codegen", func(b *testing.B) {
				g := OapiCodegen{ImportMapping: c.mapping}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := g.GenerateFile(ctx, c.spec, c.pkg); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
