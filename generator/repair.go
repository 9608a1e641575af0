package generator

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The repair stage runs when the loader refuses a document. It reads the
// document and the files it references into YAML node trees (lines and
// columns kept), mends the mistakes a client generator can soundly work
// around, each with a warning at its place, and hands the mended text back to
// the loader. Text is written so that every node stays on its line, so the
// origins the loader records, and the warnings built from them, still point
// into the files as written. What cannot be mended soundly (a default that
// contradicts its type, say) is left for the loader or the model to refuse.
//
// Repairs:
//   - a string field (openapi, info.version, a title, summary or
//     description) holding a number or boolean: its text is used;
//   - a title, summary or description holding an object or list: left out;
//   - a schema written as a list (draft tuple "items: [...]", or a keyword
//     misplaced among properties): kept as raw JSON ({});
//   - a parameter with both schema and content: content is left out;
//   - a $ref that names nothing (no such component, no such file, a remote
//     file with remote references off): a schema becomes raw JSON ({}); a
//     response becomes one without content; a parameter, header, request
//     body, example, link, callback, security scheme or path item is left
//     out; a link whose operationRef names nothing is left out;
//   - an operation given as a $ref (which OpenAPI does not define, and the
//     loader reads as an empty operation): the operation it names is copied
//     in its place, its own references rewritten to hold from there, on the
//     line of the reference; one that names nothing is left out;
//   - a default or enum value written in the wrong kind of scalar: "true"
//     or "false" in quotes for a boolean, a number in quotes for a number,
//     an unquoted number or boolean for a string (its text, as written, is
//     used); a null default on a branch of an anyOf/oneOf that does not
//     allow null, beside the null branch, and a list or object default on
//     the scalar items of an array, are left out; an enum of plain values
//     written on an array schema is moved to its items;
//   - a mapping key written twice: when the values agree, or one of them is
//     empty, or the key is documentation only (description, summary, title,
//     example), the last non-empty value is kept; otherwise the loader's
//     refusal stands.

// repairer holds the node trees of a document and of the files it references.
type repairer struct {
	remote   bool
	files    map[string]*yfile
	order    []*yfile
	visited  map[visitKey]bool
	warnings []Diagnostic
	at       string // the member walk is looking at, for messages
	inlined  int    // operation references followed so far
}

// maxInlined bounds the operation references followed in one document, so
// that a cycle of them ends.
const maxInlined = 100000

// yfile is one parsed file.
type yfile struct {
	path    string
	root    *yaml.Node // the document's content node
	swagger bool
	changed bool
}

type visitKey struct {
	n    *yaml.Node
	kind string
}

func newRepairer(remote bool) *repairer {
	return &repairer{remote: remote, files: map[string]*yfile{}, visited: map[visitKey]bool{}}
}

// file returns the parsed file at path, reading it on first use; nil when it
// cannot be read or parsed.
func (r *repairer) file(path string) (*yfile, error) {
	key := filepath.Clean(path)
	if f, ok := r.files[key]; ok {
		if f == nil {
			return nil, os.ErrNotExist
		}
		return f, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		r.files[key] = nil
		return nil, err
	}
	f, err := r.parse(path, data)
	if err != nil {
		r.files[key] = nil
		return nil, err
	}
	return f, nil
}

// parse adds the file at path with content data.
func (r *repairer) parse(path string, data []byte) (*yfile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	f := &yfile{path: path, root: root}
	if root.Kind == yaml.MappingNode {
		_, v := lookup(root, "swagger")
		f.swagger = v != nil
	}
	r.files[filepath.Clean(path)] = f
	r.order = append(r.order, f)
	r.dupKeys(f, root, map[*yaml.Node]bool{})
	r.walk(f, root, "doc")
	return f, nil
}

// repaired returns the mended text of the file at path, if it was changed.
func (r *repairer) repaired(path string) ([]byte, bool) {
	f := r.files[filepath.Clean(path)]
	if f == nil || !f.changed {
		return nil, false
	}
	return emitLines(f.root), true
}

// changed reports whether any file was mended.
func (r *repairer) changed() bool {
	for _, f := range r.order {
		if f.changed {
			return true
		}
	}
	return false
}

// warn records a repair at node n of f.
func (r *repairer) warn(f *yfile, n *yaml.Node, format string, args ...any) {
	f.changed = true
	r.warnings = append(r.warnings, Diagnostic{File: f.path, Line: n.Line, Column: n.Column, Message: "warning: " + fmt.Sprintf(format, args...)})
}

// lookup returns the key and value nodes of member name of mapping m.
func lookup(m *yaml.Node, name string) (key, val *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name && m.Content[i].Kind == yaml.ScalarNode {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// remove deletes member name of mapping m.
func remove(m *yaml.Node, name string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name && m.Content[i].Kind == yaml.ScalarNode {
			m.Content = append(m.Content[:i:i], m.Content[i+2:]...)
			return
		}
	}
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// docKeys are the members whose value only documents: a duplicate of one of
// them is mended by keeping the last value.
var docKeys = map[string]bool{"description": true, "summary": true, "title": true, "example": true}

// dupKeys mends keys written twice in any mapping under n.
func (r *repairer) dupKeys(f *yfile, n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	if n.Kind == yaml.MappingNode {
		first := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				continue
			}
			j, ok := first[k.Value]
			if !ok {
				first[k.Value] = i
				continue
			}
			a, b := n.Content[j+1], n.Content[i+1]
			keep := -1
			switch {
			case isEmpty(a) || sameNode(a, b) || docKeys[k.Value]:
				keep = i
			case isEmpty(b):
				keep = j
			}
			if keep < 0 {
				continue // a real conflict: the loader refuses it
			}
			drop := j + i - keep
			r.warn(f, n.Content[drop], "key %q is written twice (lines %d and %d); the %s value is kept", k.Value, n.Content[j].Line, k.Line, map[bool]string{true: "last", false: "first"}[keep == i])
			n.Content = append(n.Content[:drop:drop], n.Content[drop+2:]...)
			// Start over: indices have moved.
			r.dupKeys(f, n, map[*yaml.Node]bool{})
			return
		}
	}
	for _, c := range n.Content {
		r.dupKeys(f, c, seen)
	}
}

func isEmpty(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!null" || (n.ShortTag() == "!!str" && strings.TrimSpace(n.Value) == ""))
}

// sameNode reports whether a and b hold the same value. It gives up (false)
// after comparing 10,000 nodes, so aliases cannot make it run for long.
func sameNode(a, b *yaml.Node) bool {
	budget := 10000
	var same func(a, b *yaml.Node) bool
	same = func(a, b *yaml.Node) bool {
		a, b = deref(a), deref(b)
		if a == b {
			return true
		}
		if budget--; budget < 0 || a == nil || b == nil || a.Kind != b.Kind || len(a.Content) != len(b.Content) {
			return false
		}
		if a.Kind == yaml.ScalarNode {
			return a.Value == b.Value && a.ShortTag() == b.ShortTag()
		}
		for i := range a.Content {
			if !same(a.Content[i], b.Content[i]) {
				return false
			}
		}
		return true
	}
	return same(a, b)
}

// fixStrings mends members of m that must be strings: a number or boolean
// is read as its text; a title, summary or description that is an object or
// a list is left out.
func (r *repairer) fixStrings(f *yfile, m *yaml.Node, names ...string) {
	for _, name := range names {
		k, v := lookup(m, name)
		if v == nil {
			continue
		}
		switch v.Kind {
		case yaml.ScalarNode:
			switch t := v.ShortTag(); t {
			case "!!int", "!!float", "!!bool":
				r.warn(f, v, "%s is %s, not a string; its text %q is used", name, scalarKinds[t], v.Value)
				v.Tag, v.Style = "!!str", yaml.DoubleQuotedStyle
			}
		case yaml.MappingNode, yaml.SequenceNode:
			if name == "description" || name == "summary" || name == "title" {
				what := "an object"
				if v.Kind == yaml.SequenceNode {
					what = "a list"
				}
				r.warn(f, k, "%s is %s, not a string; it is left out", name, what)
				remove(m, name)
			}
		}
	}
}

// scalarKinds name the kinds of scalar fixStrings mends.
var scalarKinds = map[string]string{"!!int": "an integer", "!!float": "a number", "!!bool": "a boolean"}

// members walks every value of mapping n as kind, removing those the
// walker drops. Extensions (x- members) are skipped, except in maps of
// schemas, where x- is just the start of a name.
func (r *repairer) members(f *yfile, n *yaml.Node, kind string) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); {
		if kind != "schema" && strings.HasPrefix(n.Content[i].Value, "x-") {
			i += 2
			continue
		}
		r.at = n.Content[i].Value
		if r.walk(f, n.Content[i+1], kind) {
			n.Content = append(n.Content[:i:i], n.Content[i+2:]...)
			continue
		}
		i += 2
	}
}

// items walks every element of sequence n as kind, removing those the
// walker drops.
func (r *repairer) items(f *yfile, n *yaml.Node, kind string) {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return
	}
	for i := 0; i < len(n.Content); {
		r.at = ""
		if r.walk(f, n.Content[i], kind) {
			n.Content = append(n.Content[:i:i], n.Content[i+1:]...)
			continue
		}
		i++
	}
}

// member walks member name of mapping m as kind, removing it when dropped.
func (r *repairer) member(f *yfile, m *yaml.Node, name, kind string) {
	r.at = name
	if _, v := lookup(m, name); v != nil && r.walk(f, v, kind) {
		remove(m, name)
	}
}

// operations are the members of a path item that are operations.
var operations = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// walk mends node n, an element of the given kind, and what it references.
// It reports whether the caller should leave n out.
func (r *repairer) walk(f *yfile, n *yaml.Node, kind string) (drop bool) {
	if n == nil || n.Kind == yaml.AliasNode {
		return false // mended where it is defined
	}
	if kind == "schema" && n.Kind == yaml.SequenceNode {
		what := "a schema"
		if r.at != "" {
			what = fmt.Sprintf("the schema of %q", r.at)
		}
		r.warn(f, n, "%s is written as a list, not an object; it is kept as raw JSON", what)
		*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
		return false
	}
	if n.Kind != yaml.MappingNode {
		return false
	}
	if kind != "doc" {
		if k, v := lookup(n, "$ref"); v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
			problem, tf, target := r.resolve(f, v.Value)
			if problem == "" {
				problem = wrongSection(v.Value, kind, f.swagger)
			}
			if problem == "" && kind == "operation" && target != nil {
				// OpenAPI has no reference to an operation, and the loader
				// reads one as an operation with nothing in it: the
				// operation it names is copied in its place.
				if r.inlined > maxInlined {
					r.warn(f, k, "operation reference %q is one of too many, or of a cycle; the operation is left out", v.Value)
					return true
				}
				r.inlined++
				*n = *inlineCopy(target, f, tf, n.Line)
				f.changed = true
				return r.walk(f, n, kind)
			}
			if problem == "" {
				if target != nil {
					r.walk(tf, target, kind)
				}
				return false
			}
			switch kind {
			case "schema":
				r.warn(f, k, "%s; the schema is kept as raw JSON", problem)
				*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
				return false
			case "response":
				r.warn(f, k, "%s; the response is kept without content", problem)
				*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
				return false
			}
			r.warn(f, k, "%s; the %s is left out", problem, kindNames[kind])
			return true
		}
	}
	key := visitKey{n, kind}
	if r.visited[key] {
		return false
	}
	r.visited[key] = true
	switch kind {
	case "doc":
		r.fixStrings(f, n, "openapi", "swagger")
		if _, info := lookup(n, "info"); info != nil {
			r.fixStrings(f, info, "title", "description", "version", "summary", "termsOfService")
		}
		if _, tags := lookup(n, "tags"); tags != nil && tags.Kind == yaml.SequenceNode {
			for _, t := range tags.Content {
				r.fixStrings(f, t, "name", "description")
			}
		}
		r.members(f, valueOf(n, "paths"), "pathItem")
		r.members(f, valueOf(n, "webhooks"), "pathItem")
		if f.swagger {
			r.members(f, valueOf(n, "definitions"), "schema")
			r.members(f, valueOf(n, "parameters"), "parameter")
			r.members(f, valueOf(n, "responses"), "response")
		}
		c := valueOf(n, "components")
		r.members(f, valueOf(c, "schemas"), "schema")
		r.members(f, valueOf(c, "responses"), "response")
		r.members(f, valueOf(c, "parameters"), "parameter")
		r.members(f, valueOf(c, "examples"), "example")
		r.members(f, valueOf(c, "requestBodies"), "requestBody")
		r.members(f, valueOf(c, "headers"), "header")
		r.members(f, valueOf(c, "securitySchemes"), "securityScheme")
		r.members(f, valueOf(c, "links"), "link")
		r.members(f, valueOf(c, "callbacks"), "callback")
		r.members(f, valueOf(c, "pathItems"), "pathItem")
	case "pathItem":
		r.fixStrings(f, n, "summary", "description")
		r.items(f, valueOf(n, "parameters"), "parameter")
		for _, m := range operations {
			r.member(f, n, m, "operation")
		}
	case "operation":
		r.fixStrings(f, n, "summary", "description", "operationId")
		r.items(f, valueOf(n, "parameters"), "parameter")
		r.member(f, n, "requestBody", "requestBody")
		r.members(f, valueOf(n, "responses"), "response")
		r.members(f, valueOf(n, "callbacks"), "callback")
	case "parameter", "header":
		r.fixStrings(f, n, "description")
		_, s := lookup(n, "schema")
		kc, c := lookup(n, "content")
		if s != nil && c != nil && !f.swagger {
			r.warn(f, kc, "the %s has both schema and content; content is left out", kind)
			remove(n, "content")
			c = nil
		}
		r.member(f, n, "schema", "schema")
		r.members(f, c, "media")
		r.members(f, valueOf(n, "examples"), "example")
	case "requestBody":
		r.fixStrings(f, n, "description")
		r.members(f, valueOf(n, "content"), "media")
	case "response":
		r.fixStrings(f, n, "description")
		r.members(f, valueOf(n, "headers"), "header")
		r.members(f, valueOf(n, "content"), "media")
		r.members(f, valueOf(n, "links"), "link")
		if f.swagger {
			r.member(f, n, "schema", "schema")
		}
	case "media":
		r.member(f, n, "schema", "schema")
		r.members(f, valueOf(n, "examples"), "example")
		if enc := valueOf(n, "encoding"); enc != nil && enc.Kind == yaml.MappingNode {
			for i := 1; i < len(enc.Content); i += 2 {
				r.members(f, valueOf(enc.Content[i], "headers"), "header")
			}
		}
	case "link":
		r.fixStrings(f, n, "description")
		if k, v := lookup(n, "operationRef"); v != nil && v.Kind == yaml.ScalarNode {
			if problem, _, _ := r.resolve(f, v.Value); problem != "" {
				r.warn(f, k, "operationRef: %s; the link is left out", problem)
				return true
			}
		}
	case "callback":
		r.members(f, n, "pathItem")
	case "example", "securityScheme":
		r.fixStrings(f, n, "summary", "description")
	case "schema":
		r.fixStrings(f, n, "title", "description")
		r.fixValues(f, n)
		r.fixNullDefaults(f, n)
		r.members(f, valueOf(n, "properties"), "schema")
		r.members(f, valueOf(n, "patternProperties"), "schema")
		r.members(f, valueOf(n, "dependentSchemas"), "schema")
		r.members(f, valueOf(n, "$defs"), "schema")
		for _, name := range []string{"items", "not", "additionalProperties", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema", "additionalItems"} {
			r.member(f, n, name, "schema")
		}
		for _, name := range []string{"allOf", "oneOf", "anyOf", "prefixItems"} {
			r.items(f, valueOf(n, name), "schema")
		}
	}
	return false
}

// kindNames are the words warnings use for each kind of element.
var kindNames = map[string]string{
	"parameter": "parameter", "header": "header", "requestBody": "request body", "example": "example",
	"link": "link", "callback": "callback", "securityScheme": "security scheme", "pathItem": "path item",
	"operation": "operation", "media": "media type",
}

// valueOf returns the value of member name of mapping m, aliases followed.
func valueOf(m *yaml.Node, name string) *yaml.Node {
	_, v := lookup(deref(m), name)
	return deref(v)
}

// sections are the components sections that hold each kind of element.
var sections = map[string]string{
	"schema": "schemas", "response": "responses", "parameter": "parameters", "header": "headers",
	"requestBody": "requestBodies", "example": "examples", "link": "links", "callback": "callbacks",
	"securityScheme": "securitySchemes", "pathItem": "pathItems",
}

// wrongSection describes a reference to a component of another kind than
// the place of the reference wants (a response that names a schema), or
// returns "".
func wrongSection(ref, kind string, swagger bool) string {
	_, frag, _ := strings.Cut(ref, "#")
	parts := strings.Split(frag, "/")
	want := sections[kind]
	var got string
	switch {
	case len(parts) == 4 && parts[0] == "" && parts[1] == "components":
		got = parts[2]
	case swagger && len(parts) == 3 && parts[0] == "" && (parts[1] == "definitions" || parts[1] == "parameters" || parts[1] == "responses"):
		got = parts[1]
		if got == "definitions" {
			got = "schemas"
		}
	default:
		return ""
	}
	known := false
	for _, sec := range sections {
		known = known || sec == got
	}
	if want == "" || !known || got == want || (kind == "header" && got == "parameters") {
		return ""
	}
	return fmt.Sprintf("reference %q names one of the %s where one of the %s belongs", ref, got, want)
}

// resolve checks the reference ref written in f. It returns a description
// of the problem when ref names nothing, else the file and node it names
// (nil when it cannot be checked: a remote file with remote references on).
func (r *repairer) resolve(f *yfile, ref string) (problem string, tf *yfile, target *yaml.Node) {
	u, err := url.Parse(ref)
	if err != nil {
		return fmt.Sprintf("reference %q is not a valid URI", ref), nil, nil
	}
	tf = f
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		if r.remote {
			return "", nil, nil
		}
		return fmt.Sprintf("reference %q is remote and remote references are off (Config.AllowRemoteRefs)", ref), nil, nil
	case u.Scheme != "" && u.Scheme != "file":
		return fmt.Sprintf("reference %q has unsupported scheme %q", ref, u.Scheme), nil, nil
	case u.Path != "":
		p := filepath.FromSlash(u.Path)
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(f.path), p)
		}
		if tf, err = r.file(p); err != nil {
			if os.IsNotExist(err) {
				return fmt.Sprintf("reference %q names file %s, which does not exist", ref, u.Path), nil, nil
			}
			return "", nil, nil // the loader reports a file it cannot parse
		}
	}
	target = tf.root
	frag := u.Fragment
	if frag == "" || frag == "/" {
		return "", tf, target
	}
	if !strings.HasPrefix(frag, "/") {
		return "", nil, nil // not a JSON pointer: left to the loader
	}
	for _, part := range strings.Split(frag[1:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		target = deref(target)
		var next *yaml.Node
		switch target.Kind {
		case yaml.MappingNode:
			_, next = lookup(target, part)
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(part); err == nil && i >= 0 && i < len(target.Content) {
				next = target.Content[i]
			}
		}
		if next == nil {
			where := "this document"
			if tf != f {
				where = u.Path
			}
			return fmt.Sprintf("reference %q names nothing in %s", ref, where), nil, nil
		}
		target = next
	}
	return "", tf, deref(target)
}

// emitLines writes n as flow-style YAML in which every node starts on the
// line it had in its source, and at its column where the text before it
// leaves room: the loader's origins then stay true to the source. Comments
// are dropped; anchors and aliases are kept.
func emitLines(n *yaml.Node) []byte {
	w := &lineWriter{line: 1, col: 1}
	w.node(n)
	w.buf.WriteString(repairedEnd)
	return w.buf.Bytes()
}

// repairedEnd ends the text emitLines writes, after the last node, so that
// messages about it can tell it from a JSON document.
const repairedEnd = "\n# repaired by apigen\n"

// lineWriter tracks the line and column of the text it writes.
type lineWriter struct {
	buf       bytes.Buffer
	line, col int
}

func (w *lineWriter) write(s string) {
	w.buf.WriteString(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		w.line += strings.Count(s, "\n")
		w.col = len(s) - i
		return
	}
	w.col += len(s)
}

// moveTo advances to the line and column of n, when they are ahead.
func (w *lineWriter) moveTo(n *yaml.Node) {
	if n.Line > w.line {
		w.write(strings.Repeat("\n", n.Line-w.line))
	}
	if n.Line == w.line && n.Column > w.col {
		w.write(strings.Repeat(" ", n.Column-w.col))
	}
}

func (w *lineWriter) node(n *yaml.Node) {
	w.moveTo(n)
	if n.Anchor != "" && n.Kind != yaml.AliasNode {
		w.write("&" + n.Anchor + " ")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			w.node(c)
		}
	case yaml.AliasNode:
		w.write("*" + n.Value + " ")
	case yaml.MappingNode:
		w.write("{")
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				w.write(", ")
			}
			w.node(n.Content[i])
			w.write(": ")
			w.node(n.Content[i+1])
		}
		w.write("}")
	case yaml.SequenceNode:
		w.write("[")
		for i, c := range n.Content {
			if i > 0 {
				w.write(", ")
			}
			w.node(c)
		}
		w.write("]")
	case yaml.ScalarNode:
		w.write(scalarText(n))
	}
}

// scalarText writes a scalar so that it reads back with the same tag and
// value: strings double-quoted, other resolved scalars as written.
func scalarText(n *yaml.Node) string {
	switch t := n.ShortTag(); t {
	case "!!str":
		return strconv.Quote(n.Value)
	case "!!null":
		return "null"
	case "!!int", "!!float", "!!bool", "!!merge", "!!timestamp":
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			return n.Value
		}
		return t + " " + strconv.Quote(n.Value)
	default:
		return t + " " + strconv.Quote(n.Value)
	}
}

// inlineCopy returns a deep copy of node n of file from, to be placed in
// file to at line: every node is put on that line (the text it came from is
// elsewhere), and the relative references in it are rewritten to hold from
// to's place.
func inlineCopy(n *yaml.Node, to, from *yfile, line int) *yaml.Node {
	c := *n
	c.Line, c.Column = line, 0
	c.Anchor = ""
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return inlineCopy(n.Alias, to, from, line)
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, sub := range n.Content {
		c.Content[i] = inlineCopy(sub, to, from, line)
		if n.Kind == yaml.MappingNode && i%2 == 1 && n.Content[i-1].Value == "$ref" && sub.Kind == yaml.ScalarNode {
			c.Content[i].Value = rebaseRef(sub.Value, from.path, to.path)
		}
	}
	return &c
}

// rebaseRef rewrites ref, written in the file at from, to name the same
// thing when written in the file at to.
func rebaseRef(ref, from, to string) string {
	if from == to {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return ref
	}
	target := filepath.Clean(from)
	if u.Path != "" {
		p := filepath.FromSlash(u.Path)
		if filepath.IsAbs(p) {
			return ref
		}
		target = filepath.Join(filepath.Dir(from), p)
	}
	rel, err := filepath.Rel(filepath.Dir(to), target)
	if err != nil {
		return ref
	}
	u.Path = filepath.ToSlash(rel)
	return u.String()
}

// fixValues mends the default and enum values of schema n that do not have
// its type but say plainly what they mean.
func (r *repairer) fixValues(f *yfile, n *yaml.Node) {
	_, tn := lookup(n, "type")
	tn = deref(tn)
	if tn == nil || tn.Kind != yaml.ScalarNode {
		return // no type, or a list of them: nothing to hold values to
	}
	typ := tn.Value
	if _, def := lookup(n, "default"); deref(def) != nil && deref(def).Kind == yaml.ScalarNode {
		r.fixScalar(f, deref(def), typ, "default value")
	}
	// A list default on the scalar items of an array belongs to the array,
	// which has its own: it is left out. (On a scalar schema of its own, a
	// list default is a contradiction, and stays refused.)
	if items := valueOf(n, "items"); typ == "array" && items != nil {
		if it := valueOf(items, "type"); it != nil && scalarType(it.Value) {
			if kd, def := lookup(items, "default"); deref(def) != nil && deref(def).Kind != yaml.ScalarNode {
				r.warn(f, kd, "default of the %s items of an array is a list or an object; it is left out", it.Value)
				remove(items, "default")
			}
		}
	}
	ke, enum := lookup(n, "enum")
	enum = deref(enum)
	if enum == nil || enum.Kind != yaml.SequenceNode {
		return
	}
	if typ == "array" {
		_, items := lookup(n, "items")
		items = deref(items)
		if items == nil || items.Kind != yaml.MappingNode || valueOf(items, "enum") != nil {
			return
		}
		for _, v := range enum.Content {
			if deref(v) == nil || deref(v).Kind != yaml.ScalarNode {
				return // lists: a real enum of arrays
			}
		}
		r.warn(f, ke, "enum of plain values is written on an array schema; it is moved to its items")
		remove(n, "enum")
		items.Content = append(items.Content, ke, enum)
		return
	}
	for _, v := range enum.Content {
		if v = deref(v); v != nil && v.Kind == yaml.ScalarNode && !(typ == "integer" && v.ShortTag() == "!!str") {
			// (Integer enums of strings stay refused: a quoted integer
			// there is not told apart from a name.)
			r.fixScalar(f, v, typ, "enum value")
		}
	}
}

// scalarType reports whether t names a scalar JSON Schema type.
func scalarType(t string) bool {
	return t == "string" || t == "number" || t == "integer" || t == "boolean"
}

// fixNullDefaults leaves out a null default on a branch of the anyOf or
// oneOf of n when a sibling branch is the null type: the union allows null,
// the branch alone does not, and the default belongs to the union. (A null
// default on a schema that allows null nowhere stays refused.)
func (r *repairer) fixNullDefaults(f *yfile, n *yaml.Node) {
	for _, name := range []string{"anyOf", "oneOf"} {
		branches := valueOf(n, name)
		if branches == nil || branches.Kind != yaml.SequenceNode {
			continue
		}
		hasNull := slices.ContainsFunc(branches.Content, func(b *yaml.Node) bool {
			t := valueOf(deref(b), "type")
			return t != nil && t.Value == "null"
		})
		if !hasNull {
			continue
		}
		for _, b := range branches.Content {
			b = deref(b)
			if b == nil || b.Kind != yaml.MappingNode || allowsNull(b) {
				continue
			}
			if kd, def := lookup(b, "default"); deref(def) != nil && deref(def).ShortTag() == "!!null" {
				r.warn(f, kd, "default is null on a branch of %s that does not allow null, beside the null branch; it is left out", name)
				remove(b, "default")
			}
		}
	}
}

// fixScalar mends scalar v, a value of a schema of type typ, when it is
// written as the wrong kind of scalar but its text is a value of typ.
func (r *repairer) fixScalar(f *yfile, v *yaml.Node, typ, what string) {
	tag := v.ShortTag()
	switch {
	case typ == "boolean" && tag == "!!str" && (v.Value == "true" || v.Value == "false"):
		r.warn(f, v, "%s %q of a boolean schema is a string; read as the boolean %s", what, v.Value, v.Value)
		v.Tag, v.Style = "!!bool", 0
	case (typ == "number" || typ == "integer") && tag == "!!str" && quotedNumber(v.Value, typ):
		r.warn(f, v, "%s %q of a schema of type %s is a number written as a string; read as the number", what, v.Value, typ)
		v.Tag, v.Style = "!!float", 0
		if typ == "integer" {
			v.Tag = "!!int"
		}
	case typ == "string" && (tag == "!!int" || tag == "!!float" || tag == "!!bool"):
		r.warn(f, v, "%s %s of a string schema is %s; its text %q is used", what, v.Value, scalarKinds[tag], v.Value)
		v.Tag, v.Style = "!!str", yaml.DoubleQuotedStyle
	}
}

// allowsNull reports whether schema n says it may be null.
func allowsNull(n *yaml.Node) bool {
	if v := valueOf(n, "nullable"); v != nil && v.Value == "true" {
		return true
	}
	if t := valueOf(n, "type"); t != nil && (t.Value == "null" || t.Kind == yaml.SequenceNode && slices.ContainsFunc(t.Content, func(c *yaml.Node) bool { return c.Value == "null" })) {
		return true
	}
	if e := valueOf(n, "enum"); e != nil && slices.ContainsFunc(e.Content, func(c *yaml.Node) bool { return c.ShortTag() == "!!null" }) {
		return true
	}
	return false
}
