package generator

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/allsource-go/allsource/generator/internal/ir"
	"github.com/allsource-go/allsource/generator/internal/naming"
	"github.com/getkin/kin-openapi/openapi3"
)

// The builder reads a loaded document into the model (package ir): gen
// holds the state of one run, build walks the document, model hands the
// result to the emitters.

// gen holds the state of one generation run: the document, the model
// being built, and what the builder alone needs to build it.
type gen struct {
	cfg      Config
	doc      *openapi3.T
	warnings []Diagnostic
	warned   map[string]bool
	err      *SpecError // first reason to refuse the spec

	// The model being built, handed over by model().
	ns                       *naming.Namespace
	imports                  map[string]string // import path -> package name
	types                    []*ir.Type
	ops                      []*ir.Operation
	auth                     []*ir.AuthScheme
	stream                   *ir.WebSocket
	baseURL, baseURLName     string // first server URL, when it has no variables
	userAgent, userAgentName string // x-user-agent, "" for none
	errCodes                 []*ir.ErrorCode
	errCodesVar              string // the unexported list of errCodes

	// The source of the model's elements, which only the builder reads.
	byPtr        map[*openapi3.Schema]*ir.TypeRef
	byRef        map[string]*ir.TypeRef                // $ref as written -> the type it names
	comps        map[string]*ir.TypeRef                // component schema name -> its type
	queue        []*ir.Type                            // named types declared but not filled yet
	schemaOf     map[*ir.Type]*openapi3.Schema         // the schema a named type declares
	filled       map[*ir.Type]bool                     // named types whose declaration is complete
	resultSchema map[*ir.Operation]*openapi3.SchemaRef // the schema of an operation's JSON result
	opOrigin     map[*ir.Operation]*openapi3.Origin    // where an operation is written
	pageExt      map[*ir.Operation]any                 // the x-pagination extension of an operation
}

func newGen(cfg Config, doc *openapi3.T) *gen {
	return &gen{
		cfg:          cfg,
		doc:          doc,
		ns:           naming.NewNamespace(),
		byPtr:        make(map[*openapi3.Schema]*ir.TypeRef),
		byRef:        make(map[string]*ir.TypeRef),
		imports:      make(map[string]string),
		warned:       make(map[string]bool),
		comps:        make(map[string]*ir.TypeRef),
		schemaOf:     make(map[*ir.Type]*openapi3.Schema),
		filled:       make(map[*ir.Type]bool),
		resultSchema: make(map[*ir.Operation]*openapi3.SchemaRef),
		opOrigin:     make(map[*ir.Operation]*openapi3.Origin),
		pageExt:      make(map[*ir.Operation]any),
	}
}

// importName returns the reserved package name for an import path.
func (g *gen) importName(p string) string {
	if n, ok := g.imports[p]; ok {
		return n
	}
	base := path.Base(p)
	if strings.HasPrefix(base, "v") && len(base) > 1 && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(p))
	}
	n := g.ns.Unexported(strings.ToLower(base))
	g.imports[p] = n
	return n
}

// mapped returns the Go import path for a $ref into a mapped file.
func (g *gen) mapped(ref string) (string, bool) {
	file, _ := splitRef(ref)
	if file == "" {
		return "", false
	}
	if p, ok := g.cfg.ImportMapping[file]; ok {
		return p, true
	}
	clean := path.Clean(file)
	for k, p := range g.cfg.ImportMapping {
		if path.Clean(k) == clean || path.Base(k) == path.Base(clean) && !strings.Contains(k, "/") {
			return p, true
		}
	}
	return "", false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// build turns the loaded document into the model.
func (g *gen) build() error {
	g.reserve()
	var comps map[string]*openapi3.SchemaRef
	if g.doc.Components != nil {
		comps = g.doc.Components.Schemas
	}
	names := sortedKeys(comps)
	// Named schemas first claim their names, so inline types never take them.
	for _, name := range names {
		r := comps[name]
		if r == nil || r.Value == nil || r.Ref != "" {
			continue
		}
		g.comps[name] = g.declare(r.Value, name, r.Extensions)
		g.byRef["#/components/schemas/"+escapeRef(name)] = g.comps[name]
	}
	for _, name := range names {
		r := comps[name]
		if r == nil || r.Value == nil || r.Ref == "" {
			continue
		}
		if _, ok := g.mapped(r.Ref); !ok {
			if _, ok := g.byPtr[r.Value]; !ok {
				g.comps[name] = g.declare(r.Value, name, r.Extensions)
				continue
			}
		}
		goName := goNameExt(r.Extensions)
		if goName == "" {
			goName = name
		}
		n := &ir.Type{Name: g.ns.Exported(goName), Kind: ir.Alias}
		g.schemaOf[n], g.filled[n] = r.Value, true
		n.Doc = r.Value.Description
		t := &ir.TypeRef{Kind: ir.Named, Name: n.Name, Named: n}
		g.types = append(g.types, n)
		n.Under = g.resolve(r, n.Name)
		g.comps[name] = t
		if _, ok := g.byPtr[r.Value]; !ok {
			g.byPtr[r.Value] = t
		}
	}
	g.drain()
	if len(g.doc.Servers) > 0 && g.doc.Servers[0] != nil {
		if u := g.doc.Servers[0].URL; strings.Contains(u, "://") && !strings.ContainsAny(u, "{}") {
			g.baseURL = u
			g.baseURLName = g.ns.Exported("DefaultBaseURL")
		}
	}
	g.buildAuth()
	g.buildErrorCodes()
	if err := g.buildOps(); err != nil {
		return err
	}
	g.drain()
	g.buildPaginations()
	g.checkCycles()
	g.optionalObjectsByPointer()
	g.breakCycles()
	g.nameConstructors()
	if g.err != nil {
		return g.err
	}
	return nil
}

// nameConstructors names the constructor of every variant of every sum.
// They take their names after every other package-level name.
func (g *gen) nameConstructors() {
	for _, n := range g.types {
		if n.Kind != ir.Sum {
			continue
		}
		for _, v := range n.Variants {
			v.Constructor = g.ns.Exported("New" + v.Name + n.Name)
		}
	}
}

// model returns the API the build produced, for the emitters.
func (g *gen) model() *ir.API {
	for _, n := range g.types {
		n.Pos = posOf(originOf(g.schemaOf[n]))
	}
	api := &ir.API{
		Names:         g.ns,
		Imports:       g.imports,
		Types:         g.types,
		Operations:    g.ops,
		Auth:          g.auth,
		WebSocket:     g.stream,
		BaseURL:       g.baseURL,
		BaseURLName:   g.baseURLName,
		UserAgent:     g.userAgent,
		UserAgentName: g.userAgentName,
		ErrorCodes:    g.errCodes,
		ErrorCodesVar: g.errCodesVar,
	}
	if g.doc.Info != nil {
		api.Title, api.Version, api.Description = g.doc.Info.Title, g.doc.Info.Version, g.doc.Info.Description
	}
	return api
}

// schemaTypes lists the Go types declared for component schemas, in the
// order of the schema names.
func (g *gen) schemaTypes() []SchemaType {
	var out []SchemaType
	for _, name := range sortedKeys(g.comps) {
		t := g.comps[name]
		if t.Kind != ir.Named || g.schemaOf[t.Named] == nil {
			continue
		}
		out = append(out, SchemaType{Component: name, GoName: t.Name, Schema: g.schemaOf[t.Named]})
	}
	listed := map[*ir.Type]bool{}
	for _, st := range out {
		listed[g.comps[st.Component].Named] = true
	}
	for _, o := range g.ops {
		for _, s := range []*ir.Stream{o.Stream, o.Mixed} {
			if s == nil {
				continue
			}
			where := fmt.Sprintf("%s: items of %s", o, s.Media)
			items := []*ir.TypeRef{s.Item}
			places := []string{where}
			for _, ev := range s.Events {
				items = append(items, ev.Type)
				places = append(places, fmt.Sprintf("%s: data of event %q", where, ev.Name))
			}
			for i, t := range items {
				if t == nil || t.Kind != ir.Named || g.schemaOf[t.Named] == nil || listed[t.Named] {
					continue
				}
				listed[t.Named] = true
				out = append(out, SchemaType{Where: places[i], GoName: t.Name, Schema: g.schemaOf[t.Named]})
			}
		}
	}
	return out
}

// drain fills every declared type, including those declared while filling.
func (g *gen) drain() {
	for len(g.queue) > 0 {
		n := g.queue[0]
		g.queue = g.queue[1:]
		g.fill(n)
	}
}

// reserve takes the names the generated package declares itself, and the
// names of the imports it uses.
func (g *gen) reserve() {
	g.ns.Reserve("Client", "NewClient", "NewClientWith")
	for _, p := range []string{"bytes", "context", "encoding/json", "errors", "fmt", "io", "mime/multipart", "net/http", "net/url", "strconv", "strings", "time", "slices", "maps"} {
		g.imports[p] = path.Base(p)
		g.ns.Reserve(path.Base(p))
	}
	g.importName(g.cfg.RuntimeImport)
	for _, p := range sortedKeys(g.cfg.ImportMapping) {
		g.importName(g.cfg.ImportMapping[p])
	}
}
