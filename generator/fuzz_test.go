package generator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// FuzzNameAllocator checks that every name the allocator hands out is a
// valid identifier of the requested kind, never a keyword or predeclared
// name, and never handed out twice.
func FuzzNameAllocator(f *testing.F) {
	for _, s := range []string{"", "type", "string", "Client", "user_id", "日本", "9", "a b", "AdditionalProperties", "_", "Ångström", "x-go-name", "len"} {
		f.Add(s, s+"2")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ns := NewNamespace()
		seen := map[string]bool{}
		for _, s := range []string{a, b, a, b} {
			for _, n := range []string{ns.Exported(s), ns.Unexported(s), ns.Exact(s)} {
				if !isIdent(n) {
					t.Fatalf("%q gave %q, not an identifier", s, n)
				}
				if seen[n] {
					t.Fatalf("%q handed out twice", n)
				}
				seen[n] = true
				for _, p := range predeclared {
					if n == p {
						t.Fatalf("%q is predeclared", n)
					}
				}
			}
		}
		if n := ns.Exported(a); !isExportedIdent(n) {
			t.Fatalf("Exported(%q) = %q is not exported", a, n)
		}
		if n := ns.Unexported(a); unicode.IsUpper([]rune(n)[0]) {
			t.Fatalf("Unexported(%q) = %q is exported", a, n)
		}
	})
}

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
