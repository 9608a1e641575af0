// Package naming allocates the Go identifiers of a generated package: a
// Namespace per scope, so that no input makes the generator emit a
// redeclared or shadowed name, and ExportedName to turn any string into an
// identifier.
package naming

import (
	"go/token"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Scope hands out the names of the locals of one generated function. Each
// local name is allocated once and reused: the generated blocks that use
// them do not nest.
type Scope struct {
	ns    *Namespace
	names map[string]string
}

// NewScope returns a Scope whose names are allocated in a child of parent.
func NewScope(parent *Namespace) *Scope { return &Scope{ns: parent.Child()} }

// ScopeIn returns a Scope that allocates its names in ns itself, for
// locals of a function whose other names ns already holds.
func ScopeIn(ns *Namespace) *Scope { return &Scope{ns: ns} }

// Unexported returns the function's local named after base.
func (s *Scope) Unexported(base string) string {
	if n, ok := s.names[base]; ok {
		return n
	}
	if s.names == nil {
		s.names = map[string]string{}
	}
	n := s.ns.Unexported(base)
	s.names[base] = n
	return n
}

// predeclared lists Go's predeclared identifiers. Generated names never take
// them, so generated code never shadows a builtin type or function.
var predeclared = []string{
	"any", "append", "bool", "byte", "cap", "clear", "close", "comparable", "complex",
	"complex128", "complex64", "copy", "delete", "error", "false", "float32", "float64",
	"imag", "int", "int16", "int32", "int64", "int8", "iota", "len", "make", "max", "min",
	"new", "nil", "panic", "print", "println", "real", "recover", "rune", "string", "true",
	"uint", "uint16", "uint32", "uint64", "uint8", "uintptr",
}

// Namespace allocates unique Go identifiers within one scope. The generator
// keeps one Namespace per generated package (types, constants, functions,
// import names) and derives child scopes from it for struct fields and for
// the parameters and locals of each generated function, so no input can make
// it emit a redeclared or shadowed name.
type Namespace struct {
	parent *Namespace
	used   map[string]bool
}

// NewNamespace returns a Namespace in which Go keywords and predeclared
// identifiers are already taken.
func NewNamespace() *Namespace {
	ns := &Namespace{used: make(map[string]bool)}
	for _, p := range predeclared {
		ns.used[p] = true
	}
	return ns
}

// Child returns a new Namespace in which every name taken in ns (now or
// later) is taken too. Names allocated in the child do not affect ns: use a
// child for the locals of one generated function, after the package-level
// names are allocated.
func (ns *Namespace) Child() *Namespace {
	return &Namespace{parent: ns, used: make(map[string]bool)}
}

// Reserve marks names as taken without checking them.
func (ns *Namespace) Reserve(names ...string) {
	for _, n := range names {
		ns.used[n] = true
	}
}

// Taken reports whether name is already allocated.
func (ns *Namespace) Taken(name string) bool {
	for n := ns; n != nil; n = n.parent {
		if n.used[name] {
			return true
		}
	}
	return token.IsKeyword(name)
}

// Exported allocates an exported identifier derived from s.
func (ns *Namespace) Exported(s string) string {
	return ns.alloc(ExportedName(s), "X")
}

// Unexported allocates an unexported identifier derived from s.
func (ns *Namespace) Unexported(s string) string {
	return ns.alloc(unexport(ExportedName(s)), "x")
}

// Exact allocates name itself when it is a valid, free identifier, and a
// numbered variant of it otherwise.
func (ns *Namespace) Exact(name string) string {
	if !IsIdent(name) {
		name = ExportedName(name)
	}
	return ns.alloc(name, "X")
}

func (ns *Namespace) alloc(base, fallback string) string {
	if base == "" {
		base = fallback
	}
	if !ns.Taken(base) {
		ns.used[base] = true
		return base
	}
	for i := 2; ; i++ {
		n := base + strconv.Itoa(i)
		if !ns.Taken(n) {
			ns.used[n] = true
			return n
		}
	}
}

// IsIdent reports whether s is a valid Go identifier that is not a keyword.
func IsIdent(s string) bool {
	if s == "" || token.IsKeyword(s) {
		return false
	}
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// initialisms are written in upper case in Go names.
var initialisms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "CPU": true, "CSS": true, "DNS": true, "EOF": true,
	"GUID": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true, "IP": true, "JSON": true,
	"JWT": true, "LHS": true, "QPS": true, "RAM": true, "RHS": true, "RPC": true, "SLA": true,
	"SMTP": true, "SQL": true, "SSH": true, "TCP": true, "TLS": true, "TTL": true, "UDP": true,
	"UI": true, "UID": true, "UUID": true, "URI": true, "URL": true, "UTF8": true, "VM": true,
	"XML": true, "XMPP": true, "XSRF": true, "XSS": true,
}

// ExportedName turns an arbitrary string (a schema name, a JSON member, an
// enum value, a path) into an exported Go identifier: words are split at
// non-alphanumeric characters and case changes, capitalised, and joined;
// common initialisms are upper-cased. A name that would start with a digit
// gets an "X" prefix. The result is empty only when s has no letter or digit.
func ExportedName(s string) string {
	words := splitWords(s)
	var b strings.Builder
	for _, w := range words {
		up := strings.ToUpper(w)
		if initialisms[up] {
			b.WriteString(up)
			continue
		}
		r, n := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(w[n:])
	}
	out := b.String()
	if out == "" {
		return ""
	}
	if r, _ := utf8.DecodeRuneInString(out); !unicode.IsUpper(r) {
		out = "X" + out
	}
	return out
}

// splitWords splits s into words at separators and at lower-to-upper case
// changes, keeping only letters and digits.
func splitWords(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == '+':
			flush()
			words = append(words, "Plus")
		case !(unicode.IsLetter(r) || unicode.IsDigit(r)) || r > unicode.MaxASCII && !unicode.Is(unicode.Latin, r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(cur[len(cur)-1]) || unicode.IsDigit(cur[len(cur)-1]) ||
			i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(cur[len(cur)-1])):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

// unexport lower-cases the leading word (or initialism) of an exported name.
func unexport(s string) string {
	if s == "" {
		return ""
	}
	rs := []rune(s)
	i := 0
	for i < len(rs) && unicode.IsUpper(rs[i]) {
		i++
	}
	switch {
	case i == 0:
		return s
	case i == 1 || i == len(rs):
		i = max(i, 1)
	default:
		i-- // "HTTPServer" -> "httpServer"
	}
	for j := 0; j < i; j++ {
		rs[j] = unicode.ToLower(rs[j])
	}
	out := string(rs)
	if r, _ := utf8.DecodeRuneInString(out); !unicode.IsLetter(r) && r != '_' || unicode.IsUpper(r) {
		out = "x" + out
	}
	return out
}
