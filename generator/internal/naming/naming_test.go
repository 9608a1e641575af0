package naming

import (
	"testing"
	"unicode"
)

func TestExportedName(t *testing.T) {
	cases := map[string]string{
		"user_id":         "UserID",
		"eventType":       "EventType",
		"HTTPServer":      "HTTPServer",
		"x-request-id":    "XRequestID",
		"9lives":          "X9lives",
		"api_key":         "APIKey",
		"":                "",
		"---":             "",
		"a+b":             "APlusB",
		"replay_complete": "ReplayComplete",
		"ünïcode":         "Ünïcode",
		"日本":              "",
	}
	for in, want := range cases {
		if got := ExportedName(in); got != want {
			t.Errorf("ExportedName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNamespace(t *testing.T) {
	ns := NewNamespace()
	ns.Reserve("Client")
	got := []string{ns.Exported("client"), ns.Exported("Client"), ns.Unexported("type"), ns.Unexported("string"), ns.Unexported("len"), ns.Exact("ok"), ns.Exact("ok"), ns.Exported("")}
	want := []string{"Client2", "Client3", "type2", "string2", "len2", "ok", "ok2", "X"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("allocation %d = %q, want %q", i, got[i], want[i])
		}
	}
	child := ns.Child()
	if n := child.Unexported("ok"); n != "ok3" {
		t.Errorf("child scope took %q, a name of its parent", n)
	}
	if n := ns.Exact("ok3"); n != "ok3" {
		t.Errorf("child allocation leaked into the parent: %q", n)
	}
}

// isExportedIdent reports whether s is an exported Go identifier.
func isExportedIdent(s string) bool {
	r := []rune(s)
	return IsIdent(s) && len(r) > 0 && unicode.IsUpper(r[0])
}

// TestWriteFilesUnderGoGenerate checks that a stale file go generate has yet
// to read is not removed under it (go generate would stop), but left as a
// build-ignored stub that Diff does not count and the next run removes.
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
				if !IsIdent(n) {
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
