package runtime

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrInvalidPath matches a path parameter refused by EscapePathSegments.
var ErrInvalidPath = errors.New("runtime: invalid path")

// EscapePathSegments escapes a path parameter that spans several segments
// (the x-path-segments extension): each "/"-separated segment is escaped
// with url.PathEscape and the slashes between them are kept. It refuses,
// with an error matching ErrInvalidPath, an empty path, an empty segment
// ("a//b", a trailing "/") and a "." or ".." segment, which a server or
// proxy would resolve to another resource.
func EscapePathSegments(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: the path is empty", ErrInvalidPath)
	}
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return "", fmt.Errorf("%w: %q has an empty segment", ErrInvalidPath, p)
		case ".", "..":
			return "", fmt.Errorf("%w: %q has a %q segment", ErrInvalidPath, p, seg)
		}
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(seg))
	}
	return b.String(), nil
}
