package roundtrip

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Invalid is an instance a decoder must refuse with an error.
type Invalid struct {
	// Why names what is wrong with it: "truncated", "syntax" or
	// "wrong-kind".
	Why string
	// JSON is the instance's text.
	JSON []byte
	// Path is the JSON pointer of the wrong value, for "wrong-kind-member".
	Path string
}

// wrongKinds are values of every JSON kind but null, offered as the whole
// instance to schemas that allow no value of their kind. Null is left out
// on purpose: a JSON null leaves a Go value unchanged, by the convention of
// encoding/json, and at the top level nothing is lost by it.
var wrongKinds = []struct {
	kind string
	text string
}{
	{"boolean", "true"},
	{"integer", "0"},
	{"number", "-1.5"},
	{"string", `"wrong kind"`},
	{"array", `[1,"a"]`},
	{"array", `[]`},
	{"object", `{"wrong":"kind"}`},
	{"object", `{}`},
}

// Invalids returns instances of schema that must be refused: the valid
// instances cut short, with syntax errors put in, with one member's value
// replaced by a value of a kind its schema does not allow at all
// ("wrong-kind-member"), and values of kinds the schema does not allow at
// all ("wrong-kind"); the last two are checked against the validator too.
func Invalids(schema *openapi3.Schema, valid []Instance, seed uint64) []Invalid {
	rng := rand.New(rand.NewPCG(seed, ^seed))
	var out []Invalid
	add := func(why string, text string) {
		if !json.Valid([]byte(text)) {
			out = append(out, Invalid{Why: why, JSON: []byte(text)})
		}
	}
	for i, inst := range valid {
		if i >= 3 {
			break
		}
		t := string(inst.JSON)
		if len(t) > 1 {
			add("truncated", t[:1+rng.IntN(len(t)-1)])
		}
		switch i {
		case 0:
			add("syntax", t+"}")
			add("syntax", "["+t)
			add("syntax", t+" x")
		case 1:
			add("syntax", strings.Replace(t, ":", "=", 1))
			if n := strings.LastIndexAny(t, "}]"); n > 0 {
				add("syntax", t[:n]+","+t[n:])
			}
			add("syntax", strings.Replace(t, `"`, `'`, 2))
		}
	}
	for _, s := range []string{"", "nul", "tru", "01", "-", "1.e5", "NaN", `"unterminated`, `"bad \x escape"`, "\"raw \t tab\"", `{"a":}`, `{a:1}`, `[1,]`} {
		add("syntax", s)
	}
	for i, inst := range valid {
		if i >= 4 {
			break
		}
		if inv, ok := wrongMember(schema, inst, rng); ok {
			out = append(out, inv)
		}
	}
	for _, w := range wrongKinds {
		if permitsKind(schema, w.kind, 0) {
			continue
		}
		v, err := ParseJSON([]byte(w.text))
		if err != nil || schema.VisitJSON(v) == nil {
			continue
		}
		out = append(out, Invalid{Why: "wrong-kind", JSON: []byte(w.text)})
	}
	return out
}

// permitsKind reports whether schema allows some value of the JSON Schema
// type kind ("integer" is the kind of 0, "number" of -1.5). It errs on the
// side of yes.
func permitsKind(s *openapi3.Schema, kind string, depth int) bool {
	if s == nil || depth > 32 || (s.Always != nil && *s.Always) {
		return true
	}
	if s.Always != nil {
		return false
	}
	own := true
	switch {
	case s.Const != nil:
		own = kindName(s.Const) == kind || (kind == "number" && kindName(s.Const) == "integer")
	case len(s.Enum) > 0:
		own = false
		for _, e := range s.Enum {
			if k := kindName(e); k == kind || (kind == "integer" && k == "number") {
				own = true
			}
		}
	case s.Type != nil && len(*s.Type) > 0:
		own = s.Type.Includes(kind) || (kind == "integer" && s.Type.Includes("number"))
	}
	if !own {
		return false
	}
	for _, p := range s.AllOf {
		if p != nil && !permitsKind(p.Value, kind, depth+1) {
			return false
		}
	}
	for _, branches := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		if len(branches) == 0 {
			continue
		}
		any := false
		for _, b := range branches {
			if b == nil || permitsKind(b.Value, kind, depth+1) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	return true
}

// kindName names the JSON Schema type of a decoded value; a number is
// "integer" when it has no fraction.
func kindName(x any) string {
	v, ok := FromAny(x)
	if !ok {
		return ""
	}
	switch v.Kind {
	case Number:
		if r, ok := new(big.Rat).SetString(v.Text); ok && r.IsInt() {
			return "integer"
		}
		return "number"
	case Null:
		return "null"
	}
	return v.Kind.String()
}

// wrongMember replaces the value of one member of inst, an object, that
// the schema describes with a value of a kind the member's schema allows
// nowhere, and reports false when no member lends itself to that.
func wrongMember(schema *openapi3.Schema, inst Instance, rng *rand.Rand) (Invalid, bool) {
	s := schema
	if len(s.AllOf) > 0 {
		s = mergeAllOf(s)
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		// Which branch describes a member is not known here.
		return Invalid{}, false
	}
	top, err := ParseJSON(inst.JSON)
	obj, ok := top.(map[string]any)
	if err != nil || !ok {
		return Invalid{}, false
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		if p := s.Properties[name]; p != nil && p.Value != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for _, name := range names {
		orig := obj[name]
		ps := s.Properties[name].Value
		for _, k := range rng.Perm(len(wrongKinds)) {
			w := wrongKinds[k]
			if permitsKind(ps, w.kind, 0) {
				continue
			}
			wv, _ := ParseJSON([]byte(w.text))
			obj[name] = wv
			if schema.VisitJSON(obj) == nil {
				continue
			}
			v, ok := FromAny(obj)
			if !ok {
				return Invalid{}, false
			}
			return Invalid{Why: "wrong-kind-member", JSON: v.Encode(nil), Path: "/" + escapePointer(name)}, true
		}
		obj[name] = orig
	}
	return Invalid{}, false
}
