package roundtrip

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		want, got string
		mode      NumberMode
		effects   []string
	}{
		{`{"a":1,"b":[1,2]}`, `{"b":[1,2],"a":1}`, NumbersExact, nil},
		{`1.0`, `1`, NumbersExact, []string{EffectNumberSpelling}},
		{`1.0`, `1`, NumbersValue, nil},
		{`1e2`, `100`, NumbersValue, nil},
		{`0.1000000000000000001`, `0.1`, NumbersValue, []string{EffectNumberChanged}},
		{`9007199254740993`, `9007199254740992`, NumbersValue, []string{EffectNumberChanged}},
		{`null`, `{"name":""}`, NumbersExact, []string{EffectNullLost}},
		{`{"a":null}`, `{}`, NumbersExact, []string{EffectMemberDropped}},
		{`{}`, `{"x":0}`, NumbersExact, []string{EffectMemberInvented}},
		{`4`, `"NA=="`, NumbersExact, []string{EffectKindChanged}},
		{`[1]`, `[]`, NumbersExact, []string{EffectLengthChanged}},
		{`{"a":"x","a":"y"}`, `{"a":"y"}`, NumbersExact, nil},
		{`{"a":{"b":1}}`, `{"a":{"b":2,"c":null}}`, NumbersExact, []string{EffectNumberChanged, EffectMemberInvented}},
	} {
		w, err := ParseJSON([]byte(c.want))
		if err != nil {
			t.Fatal(err)
		}
		g, err := ParseJSON([]byte(c.got))
		if err != nil {
			t.Fatal(err)
		}
		var effects []string
		for _, d := range Compare(w, g, c.mode) {
			effects = append(effects, d.Effect)
		}
		if strings.Join(effects, ",") != strings.Join(c.effects, ",") {
			t.Errorf("Compare(%s, %s, %d) = %v, want %v", c.want, c.got, c.mode, effects, c.effects)
		}
	}
}

func TestParseJSONRefusesTrailingData(t *testing.T) {
	if _, err := ParseJSON([]byte(`{} {}`)); err == nil {
		t.Error("ParseJSON accepted two values")
	}
}

// TestEscapedEncoding checks that the escaped spelling of strings decodes
// to the same value as the plain one.
func TestEscapedEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		g := &synth{rng: rng, mode: AllMembers, lim: Limits{Depth: 3, Nodes: 50}}
		v := &Value{Kind: Object, Members: []Member{{Name: g.text(0, 8), Value: &Value{Kind: String, Text: g.text(0, 20)}}}}
		var plain, escaped any
		if err := json.Unmarshal(v.Encode(nil), &plain); err != nil {
			t.Fatalf("plain %s: %v", v.Encode(nil), err)
		}
		text := v.Encode(rng)
		if err := json.Unmarshal(text, &escaped); err != nil {
			t.Fatalf("escaped %s: %v", text, err)
		}
		if d := Compare(plain, escaped, NumbersExact); len(d) > 0 {
			t.Fatalf("%s decodes to another value: %v", text, d)
		}
	}
}

func loadSchemas(t *testing.T, doc string) openapi3.Schemas {
	t.Helper()
	d, err := openapi3.NewLoader().LoadFromData([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return d.Components.Schemas
}

const testDoc = `
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Pet:
      type: object
      nullable: true
      required: [name, kind]
      properties:
        name: {type: string, minLength: 1, maxLength: 10}
        kind: {type: string, enum: [cat, dog]}
        born: {type: string, format: date-time}
        code: {type: string, pattern: '^[A-Z]{3}-[0-9]{2,4}$'}
        weight: {type: number, minimum: 0, maximum: 50}
        age: {type: integer, format: int32, minimum: 0}
        tags: {type: array, items: {type: string, nullable: true}, maxItems: 3}
        data: {type: string, format: byte}
        extra: {type: object, additionalProperties: {type: integer}}
    Shape:
      oneOf:
        - $ref: '#/components/schemas/Circle'
        - $ref: '#/components/schemas/Square'
      discriminator: {propertyName: kind}
    Circle:
      type: object
      required: [kind, r]
      properties: {kind: {type: string}, r: {type: number}}
    Square:
      type: object
      required: [kind, side]
      properties: {kind: {type: string}, side: {type: integer}}
    Tree:
      type: object
      properties:
        children: {type: array, items: {$ref: '#/components/schemas/Tree'}}
`

// TestSynthesize checks that every instance is valid, that the modes,
// nulls, unions and recursion are all reached, and that a seed repeats.
func TestSynthesize(t *testing.T) {
	schemas := loadSchemas(t, testDoc)
	for _, name := range []string{"Pet", "Shape", "Tree"} {
		s := schemas[name].Value
		insts, discarded := Synthesize(s, 40, 7, Limits{})
		if len(insts) < 20 {
			t.Errorf("%s: %d instances (%d discarded), want at least 20", name, len(insts), discarded)
		}
		again, _ := Synthesize(s, 40, 7, Limits{})
		if len(again) != len(insts) || string(again[len(again)-1].JSON) != string(insts[len(insts)-1].JSON) {
			t.Errorf("%s: the same seed gave other instances", name)
		}
		sawNull, sawVariant := false, map[string]bool{}
		for _, inst := range insts {
			v, err := ParseJSON(inst.JSON)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, inst.JSON, err)
			}
			if err := s.VisitJSON(v); err != nil {
				t.Errorf("%s: invalid instance %s: %v", name, inst.JSON, err)
			}
			sawNull = sawNull || v == nil
			sawVariant[inst.Variant] = true
		}
		if name == "Pet" && !sawNull {
			t.Errorf("Pet is nullable, but no instance is null")
		}
		if !sawVariant["escaped"] {
			t.Errorf("%s: no escaped instance", name)
		}
		for _, inv := range Invalids(s, insts, 7) {
			wrongKind := strings.HasPrefix(inv.Why, "wrong-kind")
			if json.Valid(inv.JSON) != wrongKind {
				t.Errorf("%s: %s instance %s: valid JSON is %v", name, inv.Why, inv.JSON, !wrongKind)
			}
			if wrongKind {
				v, _ := ParseJSON(inv.JSON)
				if s.VisitJSON(v) == nil {
					t.Errorf("%s: wrong-kind instance %s is valid", name, inv.JSON)
				}
			}
		}
	}
}

func TestOtherSpelling(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []string{"0", "1", "-7", "100", "2.5", "-0.125", "1e21"} {
		for range 10 {
			o := otherSpelling(n, rng)
			if !NumbersEqual(n, o) || !json.Valid([]byte(o)) {
				t.Errorf("otherSpelling(%s) = %s", n, o)
			}
		}
	}
}

func TestErrorShape(t *testing.T) {
	got := errorShape(`Event.timestamp: parsing time "\\u0031951-07" as "2006-01-02": cannot parse "x" as "2006"`)
	want := `parsing time "…" as "…": cannot parse "…" as "…"`
	if got != want {
		t.Errorf("errorShape = %q, want %q", got, want)
	}
}

func TestKnown(t *testing.T) {
	k, err := ParseKnown("k", []byte("# comment\nspec/a.yaml Foo refused # why\ndoc/b.json Bar null-lost # why\n"))
	if err != nil {
		t.Fatal(err)
	}
	fs := []Failure{{Doc: "spec/a.yaml", Type: "Foo", Effect: "refused"}, {Doc: "spec/a.yaml", Type: "Baz", Effect: "refused"}}
	unlisted, fixed := k.Audit(fs, func(string) bool { return true })
	if len(unlisted) != 1 || unlisted[0].Type != "Baz" {
		t.Errorf("unlisted = %v", unlisted)
	}
	if len(fixed) != 1 || fixed[0].Type != "Bar" {
		t.Errorf("fixed = %v", fixed)
	}
	_, fixed = k.Audit(fs, func(doc string) bool { return strings.HasPrefix(doc, "spec/") })
	if len(fixed) != 0 {
		t.Errorf("fixed outside the covered documents: %v", fixed)
	}
	for _, bad := range []string{"a b refused\n", "a b # no effect\n", "a b c # x\na b c # y\n"} {
		if _, err := ParseKnown("k", []byte(bad)); err == nil {
			t.Errorf("ParseKnown accepted %q", bad)
		}
	}
}
