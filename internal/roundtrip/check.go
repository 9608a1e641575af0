package roundtrip

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/allsource-go/allsource/generator"
	"github.com/getkin/kin-openapi/openapi3"
)

// Target is one generated package to check.
type Target struct {
	// Doc names the document the package was generated from, in reports.
	Doc string
	// Import is the package's import path in the module the driver is
	// built in.
	Import string
	// Dir is the package's directory; the types it declares are read from
	// there, and a type it does not declare is skipped and counted.
	Dir string
	// Types are the component schemas and their Go types
	// (generator.Result.Types).
	Types []generator.SchemaType
}

// Config tunes Check.
type Config struct {
	// Instances is the number of valid instances to synthesize per type;
	// 12 when zero.
	Instances int
	// Seed seeds the synthesis; with the same seed and the same generated
	// code, a run is repeated exactly.
	Seed uint64
	// Numbers says how numbers are compared.
	Numbers NumberMode
	// Limits bound the size of instances.
	Limits Limits
}

// Failure is one instance that did not round-trip.
type Failure struct {
	// Doc and Type name the document and the Go type.
	Doc, Type string
	// Effect is what went wrong: one of the Effect constants, followed by
	// the instance's variant in parentheses when it has one
	// ("refused(respelled)"), or by what is wrong with an invalid instance
	// ("invalid-accepted(wrong-kind)").
	Effect string
	// Construct describes the schema where the failure showed: where it
	// is (top, member, item, value, extra member) and what it is there.
	Construct string
	// Path is the JSON pointer of the first difference, if any.
	Path string
	// Input and Output are the instance and what came back ("" when
	// nothing did).
	Input, Output string
	// Detail is the error, the panic, or the differences.
	Detail string
}

// Class is the failure's class: its effect and the construct it showed at.
func (f Failure) Class() string { return f.Effect + " at " + f.Construct }

// DocReport counts what was checked for one document.
type DocReport struct {
	// Doc names the document.
	Doc string
	// Types is the number of types checked; Skipped those listed in the
	// generator's result but not declared in the package.
	Types, Skipped int
	// Valid and Invalid count the instances fed; Discarded counts the
	// candidates the validator refused (not failures).
	Valid, Invalid, Discarded int
	// NoInstance lists the types for which no valid instance was found.
	NoInstance []string
	// Failures are the instances that did not round-trip.
	Failures []Failure
}

// Line is "roundtrip: <doc>: T types, V valid, I invalid, F failures".
func (d DocReport) Line() string {
	return fmt.Sprintf("roundtrip: %s: %d types, %d valid, %d invalid, %d failures", d.Doc, d.Types, d.Valid, d.Invalid, len(d.Failures))
}

// Report is the outcome of Check.
type Report struct {
	// Docs has one entry per target, in target order.
	Docs []DocReport
	// Synthesis, Build and Drive are the wall times of the three steps.
	Synthesis, Build, Drive time.Duration
}

// Failures returns every failure in document order.
func (r *Report) Failures() []Failure {
	var out []Failure
	for _, d := range r.Docs {
		out = append(out, d.Failures...)
	}
	return out
}

// Summary is "roundtrip: N documents, T types, V valid instances, F
// failures".
func (r *Report) Summary() string {
	types, valid := 0, 0
	for _, d := range r.Docs {
		types += d.Types
		valid += d.Valid
	}
	return fmt.Sprintf("roundtrip: %d documents, %d types, %d valid instances, %d failures", len(r.Docs), types, valid, len(r.Failures()))
}

// pending is one instance waiting for the driver.
type pending struct {
	doc     int
	typ     generator.SchemaType
	valid   bool
	variant string
	why     string
	path    string
	input   []byte
}

// Check synthesizes instances for every type of every target, runs them
// through a driver program built in the Go module at moduleDir (which must
// already resolve every target's import path), and reports what did not
// round-trip.
func Check(ctx context.Context, moduleDir string, targets []Target, cfg Config) (*Report, error) {
	if cfg.Instances <= 0 {
		cfg.Instances = 12
	}
	rep := &Report{}
	start := time.Now()
	types := map[string][]string{}
	perDoc := make([][]pending, len(targets))
	for i, t := range targets {
		d := DocReport{Doc: t.Doc}
		declared, err := declaredTypes(t.Dir)
		if err != nil {
			return nil, err
		}
		for _, st := range t.Types {
			if !declared[st.GoName] || st.Schema == nil {
				d.Skipped++
				continue
			}
			d.Types++
			types[t.Import] = append(types[t.Import], st.GoName)
			name := st.Component
			if name == "" {
				name = st.GoName
			}
			seed := seedFor(cfg.Seed, t.Doc, name)
			valid, discarded := Synthesize(st.Schema, cfg.Instances, seed, cfg.Limits)
			d.Discarded += discarded
			if len(valid) == 0 {
				d.NoInstance = append(d.NoInstance, st.GoName)
			}
			for _, inst := range valid {
				perDoc[i] = append(perDoc[i], pending{doc: i, typ: st, valid: true, variant: inst.Variant, input: inst.JSON})
			}
			for _, inv := range Invalids(st.Schema, valid, seed) {
				perDoc[i] = append(perDoc[i], pending{doc: i, typ: st, why: inv.Why, path: inv.Path, input: inv.JSON})
			}
		}
		rep.Docs = append(rep.Docs, d)
	}
	rep.Synthesis = time.Since(start)

	start = time.Now()
	bin, err := buildDriver(ctx, moduleDir, types)
	if err != nil {
		return nil, err
	}
	rep.Build = time.Since(start)

	start = time.Now()
	for i, t := range targets {
		ps := perDoc[i]
		if len(ps) == 0 {
			continue
		}
		reqs := make([]request, len(ps))
		for j, p := range ps {
			reqs[j] = request{Type: typeKey(t.Import, p.typ.GoName), In: string(p.input), Valid: p.valid}
		}
		results, err := drive(ctx, bin, reqs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Doc, err)
		}
		d := &rep.Docs[i]
		for j, p := range ps {
			if p.valid {
				d.Valid++
			} else {
				d.Invalid++
			}
			if f, bad := judge(p, results[j], cfg.Numbers); bad {
				f.Doc = t.Doc
				d.Failures = append(d.Failures, f)
			}
		}
	}
	rep.Drive = time.Since(start)
	return rep, nil
}

// seedFor derives a type's seed from the run's seed and the type's names,
// so that one type's instances do not depend on the others.
func seedFor(seed uint64, doc, component string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s\x00%s", seed, doc, component)
	return h.Sum64()
}

var (
	quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	digitsRE = regexp.MustCompile(`[0-9]+`)
	memberRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[^ ]+)?$`)
)

// errorShape is an error's text without what varies between instances of
// one bug: quoted text and numbers are blanked and the "Type.member"
// prefixes of generated decoders are dropped, so that refusals group by
// their cause.
func errorShape(s string) string {
	s = quotedRE.ReplaceAllString(s, `"…"`)
	s = digitsRE.ReplaceAllString(s, "N")
	var keep []string
	for _, seg := range strings.Split(s, ": ") {
		if memberRE.MatchString(seg) {
			continue
		}
		keep = append(keep, seg)
	}
	return Shorten(strings.Join(keep, ": "), 120)
}

// judge decides whether the driver's result for p is a failure.
func judge(p pending, r result, mode NumberMode) (Failure, bool) {
	f := Failure{Type: p.typ.GoName, Input: string(p.input), Construct: describeAt(p.typ.Schema, "")}
	suffix := ""
	if p.variant != "" {
		suffix = "(" + p.variant + ")"
	}
	if !p.valid {
		f.Path, f.Construct = p.path, describeAt(p.typ.Schema, p.path)
		switch {
		case r.Panic != "":
			f.Effect, f.Detail = EffectPanic+"("+p.why+")", r.Panic
		case r.RPanic != "":
			f.Effect, f.Detail = EffectPanic+"("+p.why+")", "runtime.UnmarshalJSON: "+r.RPanic
		case r.Err == "":
			f.Effect, f.Detail = EffectInvalidAccepted+"("+p.why+")", "json.Unmarshal decoded it without error"
		case r.RErr == "":
			f.Effect, f.Detail = EffectClientAccepted+"("+p.why+")", "runtime.UnmarshalJSON decoded it without error; json.Unmarshal said: "+r.Err
		default:
			return f, false
		}
		return f, true
	}
	switch {
	case r.Panic != "":
		f.Effect, f.Detail = EffectPanic+suffix, r.Panic
		return f, true
	case r.RPanic != "":
		f.Effect, f.Detail = EffectPanic+suffix, "runtime.UnmarshalJSON: "+r.RPanic
		return f, true
	case (r.Err == "") != (r.RErr == "") || (r.Err == "" && r.Out != nil && (r.ROut == nil || *r.ROut != *r.Out)):
		f.Effect = EffectClientDiffers + suffix
		f.Detail = fmt.Sprintf("json.Unmarshal: %s; runtime.UnmarshalJSON: %s", orOK(r.Err), orOK(r.RErr))
		if r.ROut != nil {
			f.Output = *r.ROut
		}
		return f, true
	case r.Err != "":
		f.Effect, f.Detail = EffectRefused+suffix, r.Err
		f.Construct += ": " + errorShape(r.Err)
		return f, true
	case r.MErr != "":
		f.Effect, f.Detail = EffectEncodeError+suffix, r.MErr
		return f, true
	case r.Out == nil:
		f.Effect, f.Detail = EffectEncodeError+suffix, "no output"
		return f, true
	}
	f.Output = *r.Out
	want, err := ParseJSON(p.input)
	if err != nil {
		f.Effect, f.Detail = "bad-input", err.Error()
		return f, true
	}
	got, err := ParseJSON([]byte(*r.Out))
	if err != nil {
		f.Effect, f.Detail = EffectBadOutput+suffix, err.Error()
		return f, true
	}
	if diffs := Compare(want, got, mode); len(diffs) > 0 {
		f.Effect = diffs[0].Effect + suffix
		f.Path = diffs[0].Path
		f.Construct = describeAt(p.typ.Schema, diffs[0].Path)
		f.Detail = joinDiffs(diffs)
		return f, true
	}
	// The output decodes and encodes to itself.
	switch {
	case r.Panic2 != "":
		f.Effect, f.Detail = EffectUnstable+suffix, "decoding the output panicked: "+r.Panic2
	case r.Err2 != "":
		f.Effect, f.Detail = EffectUnstable+suffix, "decoding the output failed: "+r.Err2
	case r.MErr2 != "" || r.Out2 == nil:
		f.Effect, f.Detail = EffectUnstable+suffix, "encoding the output again failed: "+r.MErr2
	default:
		got2, err := ParseJSON([]byte(*r.Out2))
		if err != nil {
			f.Effect, f.Detail = EffectUnstable+suffix, "second output is not JSON: "+err.Error()
			break
		}
		diffs := Compare(got, got2, mode)
		if len(diffs) == 0 {
			return f, false
		}
		f.Effect, f.Path = EffectUnstable+suffix, diffs[0].Path
		f.Construct = describeAt(p.typ.Schema, diffs[0].Path)
		f.Detail = "second round: " + joinDiffs(diffs)
		f.Output = *r.Out2
	}
	return f, true
}

func orOK(err string) string {
	if err == "" {
		return "ok"
	}
	return err
}

func joinDiffs(diffs []Diff) string {
	var parts []string
	for i, d := range diffs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(diffs)-3))
			break
		}
		parts = append(parts, d.String())
	}
	return strings.Join(parts, "; ")
}

// describeAt describes the schema found at the JSON pointer path below s:
// where it is (top, member, item, value of a map, extra member) and what
// it is (nullable, its type and format, enum, oneOf, anyOf, any value).
// The walk stops at a oneOf or anyOf, which is then what is described.
func describeAt(s *openapi3.Schema, path string) string {
	where := "top"
	var toks []string
	if path != "" {
		toks = strings.Split(path[1:], "/")
	}
	for _, tok := range toks {
		if s == nil {
			break
		}
		if len(s.AllOf) > 0 {
			s = mergeAllOf(s)
		}
		if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
			break
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch {
		case s.Items != nil && s.Properties == nil:
			where, s = "item", s.Items.Value
		case s.Properties[tok] != nil:
			where, s = "member", s.Properties[tok].Value
		case s.AdditionalProperties.Schema != nil:
			where, s = "value", s.AdditionalProperties.Schema.Value
		default:
			where, s = "extra member", nil
		}
	}
	return where + " " + describe(s)
}

func describe(s *openapi3.Schema) string {
	if s == nil {
		return "any"
	}
	if len(s.AllOf) > 0 {
		s = mergeAllOf(s)
	}
	var parts []string
	if permitsNull(s) {
		parts = append(parts, "nullable")
	}
	switch {
	case len(s.OneOf) > 0 || len(s.AnyOf) > 0:
		u := "oneOf"
		if len(s.OneOf) == 0 {
			u = "anyOf"
		}
		if s.Discriminator != nil {
			u += "+discriminator"
		}
		parts = append(parts, u)
	case s.Const != nil:
		parts = append(parts, "const")
	case len(s.Enum) > 0:
		parts = append(parts, "enum")
	}
	t := ""
	if s.Type != nil {
		var ts []string
		for _, x := range *s.Type {
			if x != "null" {
				ts = append(ts, x)
			}
		}
		t = strings.Join(ts, "|")
	}
	if t == "" && len(s.OneOf) == 0 && len(s.AnyOf) == 0 {
		switch {
		case len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil:
			t = "object"
		case s.Items != nil:
			t = "array"
		case s.Const == nil && len(s.Enum) == 0:
			t = "any"
		}
	}
	if t == "object" && len(s.Properties) == 0 && s.AdditionalProperties.Schema != nil {
		t = "map"
	}
	if s.Format != "" && t != "object" && t != "array" {
		t += "/" + s.Format
	}
	if t != "" {
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

// declaredTypes lists the type names declared at the top level of the Go
// package in dir.
func declaredTypes(dir string) (map[string]bool, error) {
	fset := token.NewFileSet()
	out := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("declared types: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("declared types: %w", err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				if ts, ok := spec.(*ast.TypeSpec); ok && ts.TypeParams == nil && ts.Name.IsExported() {
					out[ts.Name.Name] = true
				}
			}
		}
	}
	return out, nil
}

// Classes groups failures by class, most frequent first.
func Classes(fs []Failure) []ClassGroup {
	idx := map[string]int{}
	var out []ClassGroup
	for _, f := range fs {
		i, ok := idx[f.Class()]
		if !ok {
			i = len(out)
			idx[f.Class()] = i
			out = append(out, ClassGroup{Class: f.Class()})
		}
		out[i].Failures = append(out[i].Failures, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Failures) > len(out[j].Failures) })
	return out
}

// ClassGroup is the failures of one class.
type ClassGroup struct {
	Class    string
	Failures []Failure
}

// Types returns the distinct "doc type" pairs of the group, sorted.
func (g ClassGroup) Types() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range g.Failures {
		k := f.Doc + " " + f.Type
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
