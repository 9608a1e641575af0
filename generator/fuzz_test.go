package generator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds mutated specs to Generate: it may refuse them, but never
// panic (Generate reports a recovered panic as an internal error). The
// repair specs among the seeds send mutations through the repair stage.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "golden", "*", "spec.yaml"))
	repairs, _ := filepath.Glob(filepath.Join("testdata", "repair", "*.*"))
	for _, p := range repairs {
		if !strings.HasSuffix(p, ".txt") {
			seeds = append(seeds, p)
		}
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a/{b}":{"get":{"responses":{"200":{"description":"x","content":{"application/json":{"schema":{"oneOf":[{"type":"string"},{"$ref":"#/components/schemas/A"}]}}}}}}}},"components":{"schemas":{"A":{"type":"object","properties":{"a":{"$ref":"#/components/schemas/A"}}}}}}`))
	f.Add([]byte("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "spec.yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := Generate(ctx, Config{Spec: p, Package: "p"})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("generator panicked: %v", err)
		}
	})
}
