package generator

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/getkin/kin-openapi/openapi3"
)

// Error codes and the User-Agent are declared by the document, at its top
// level, so that the runtime knows no particular API:
//
//	x-user-agent: example-go          # the User-Agent NewClient sends
//	x-error-codes:                    # codes error bodies carry
//	  version_conflict:
//	    name: VersionConflict         # optional: the sentinel is Err<name>
//	    description: The entity is not at the expected version.
//	    class: conflict               # optional, see below
//
// Each code becomes a sentinel, Err<name>, a *runtime.ErrorCode that an
// *APIError whose body carries the code matches with errors.Is, and every
// operation hands the list to the runtime. class moves a response with the
// code into a status class whatever its status (not_found, unauthorized,
// forbidden, rate_limited, conflict), or out of any (none: a read-only
// node's 409 does not match runtime.ErrConflict); left out, the response
// belongs to the class of its status.

// errorClasses maps the class names of x-error-codes to runtime sentinels.
var errorClasses = map[string]string{
	"not_found":    "ErrNotFound",
	"unauthorized": "ErrUnauthorized",
	"forbidden":    "ErrForbidden",
	"rate_limited": "ErrRateLimited",
	"conflict":     "ErrConflict",
	"none":         "none",
}

// buildErrorCodes reads x-error-codes and x-user-agent.
func (g *gen) buildErrorCodes() {
	if ua, ok := g.doc.Extensions["x-user-agent"]; ok {
		s, isString := ua.(string)
		if !isString || strings.TrimSpace(s) == "" || strings.ContainsAny(s, "\r\n") {
			g.fail(g.rootOrigin("x-user-agent"), "x-user-agent: want a non-empty one-line string, got %v", ua)
			return
		}
		g.userAgent = s
		g.userAgentName = g.ns.Exported("UserAgent")
	}
	raw, ok := g.doc.Extensions["x-error-codes"]
	if !ok {
		return
	}
	var spec map[string]struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Class       string `json:"class"`
	}
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &spec)
	}
	if err != nil {
		g.fail(g.rootOrigin("x-error-codes"), "x-error-codes: want a map of codes to {name, description, class}: %v", err)
		return
	}
	codes := make([]string, 0, len(spec))
	for c := range spec {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		s := spec[c]
		if c == "" {
			g.fail(g.rootOrigin("x-error-codes"), "x-error-codes: empty code")
			return
		}
		class := ""
		if s.Class != "" {
			var ok bool
			if class, ok = errorClasses[s.Class]; !ok {
				g.fail(g.rootOrigin("x-error-codes"), "x-error-codes: %s: class %q: want one of not_found, unauthorized, forbidden, rate_limited, conflict, none", c, s.Class)
				return
			}
		}
		name := s.Name
		if name == "" {
			name = c
		}
		g.errCodes = append(g.errCodes, &ir.ErrorCode{Code: c, Name: g.ns.Exported("Err" + naming.ExportedName(name)), Doc: s.Description, Class: class})
	}
	if len(g.errCodes) > 0 {
		g.errCodesVar = g.ns.Unexported("errorCodes")
	}
}

// rootOrigin returns where the top-level member name of the document is,
// for diagnostics, or nil when that is not known.
func (g *gen) rootOrigin(name string) *openapi3.Origin {
	if g.doc.Origin == nil {
		return nil
	}
	for _, f := range g.doc.Origin.Fields {
		if f.Name == name {
			return &openapi3.Origin{Key: &f}
		}
	}
	return g.doc.Origin
}
