package runtime

import (
	"errors"
	"testing"
)

func TestEscapePathSegments(t *testing.T) {
	for in, want := range map[string]string{
		"a":             "a",
		"a/b/c":         "a/b/c",
		"a b/c?d#e":     "a%20b/c%3Fd%23e",
		"x%2Fy/z":       "x%252Fy/z",
		"...":           "...",
		"tenants/ü/log": "tenants/%C3%BC/log",
	} {
		got, err := EscapePathSegments(in)
		if err != nil || got != want {
			t.Errorf("EscapePathSegments(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/", "a//b", "a/", "/a", ".", "..", "a/./b", "a/../b", "../a"} {
		if got, err := EscapePathSegments(in); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("EscapePathSegments(%q) = %q, %v; want ErrInvalidPath", in, got, err)
		}
	}
}
