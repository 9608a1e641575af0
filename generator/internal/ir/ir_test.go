package ir

import "testing"

func TestTypeRefQuestions(t *testing.T) {
	rawAlias := &Type{Name: "Any", Kind: Alias, Under: RawJSON}
	intDef := &Type{Name: "Count", Kind: Def, Under: Int64}
	nullDef := &Type{Name: "Maybe", Kind: Alias, Under: &TypeRef{Kind: Null, Elem: String}}
	pet := &Type{Name: "Pet", Kind: Struct}
	sum := &Type{Name: "Shape", Kind: Sum, Variants: []*Variant{
		{Type: &TypeRef{Kind: Named, Name: "Pet", Named: pet}},
		{Type: String},
	}}
	words := &Type{Name: "Words", Kind: Sum, Variants: []*Variant{{Type: String}, {Type: Time}}}
	named := func(n *Type) *TypeRef { return &TypeRef{Kind: Named, Name: n.Name, Named: n} }
	cases := []struct {
		name                string
		t                   *TypeRef
		kind, label         string
		raw, null, nullable bool
		isInt               bool
	}{
		{"string", String, "string", "String", false, false, false, false},
		{"int64", Int64, "number", "Int64", false, false, false, true},
		{"bytes", Bytes, "string", "Bytes", false, true, false, false},
		{"time", Time, "string", "Time", false, false, false, false},
		{"raw", RawJSON, "", "JSON", true, true, false, false},
		{"raw alias", named(rawAlias), "", "JSON", true, true, false, false},
		{"int def", named(intDef), "number", "Count", false, false, false, true},
		{"nullable alias", named(nullDef), "string", "Maybe", false, true, true, false},
		{"list", &TypeRef{Kind: Slice, Elem: named(pet)}, "array", "PetList", false, true, false, false},
		{"map", &TypeRef{Kind: Map, Elem: Bool}, "object", "BoolMap", false, true, false, false},
		{"mixed sum", named(sum), "", "Shape", false, true, false, false},
		{"sum of one kind", named(words), "string", "Words", false, true, false, false},
	}
	for _, c := range cases {
		if got := c.t.JSONKind(); got != c.kind {
			t.Errorf("%s: JSONKind = %q, want %q", c.name, got, c.kind)
		}
		if got := c.t.Label(); got != c.label {
			t.Errorf("%s: Label = %q, want %q", c.name, got, c.label)
		}
		if got := c.t.IsRaw(); got != c.raw {
			t.Errorf("%s: IsRaw = %v", c.name, got)
		}
		if got := c.t.HoldsNull(); got != c.null {
			t.Errorf("%s: HoldsNull = %v", c.name, got)
		}
		if got := c.t.IsNullable(); got != c.nullable {
			t.Errorf("%s: IsNullable = %v", c.name, got)
		}
		if got := c.t.IsInt(); got != c.isInt {
			t.Errorf("%s: IsInt = %v", c.name, got)
		}
	}
	if got := named(intDef).Resolve(); got != Int64 {
		t.Errorf("Resolve of a defined int64 = %v", got)
	}
	if got := RawOf([]string{"string"}, true); !got.IsRaw() || len(got.Kinds) != 2 || got.Kinds[1] != "null" {
		t.Errorf("RawOf = %+v", got)
	}
	if got := named(&Type{Name: "OneOf", Kind: Alias, Under: RawOf([]string{"integer"}, false)}).RawKinds(); len(got) != 1 || got[0] != "integer" {
		t.Errorf("RawKinds through an alias = %v", got)
	}
}

func TestStatus(t *testing.T) {
	for _, c := range []struct {
		status      string
		class, code int
	}{
		{"200", 2, 200}, {"2XX", 2, 0}, {"4xx", 4, 0}, {"404", 4, 404}, {"default", 0, 0},
	} {
		if got := StatusClass(c.status); got != c.class {
			t.Errorf("StatusClass(%q) = %d, want %d", c.status, got, c.class)
		}
		if got := StatusCode(c.status); got != c.code {
			t.Errorf("StatusCode(%q) = %d, want %d", c.status, got, c.code)
		}
	}
}

func TestVariantConditions(t *testing.T) {
	a := &Variant{Required: []string{"id", "kind"}, Values: []MemberValues{{Name: "kind", Values: []string{"a"}, Required: true}}}
	b := &Variant{Required: []string{"id", "kind"}, Values: []MemberValues{{Name: "kind", Values: []string{"a"}, Required: true}}}
	c := &Variant{Required: []string{"id"}, Closed: true}
	if a.Specificity() != 3 || c.Specificity() != 2 {
		t.Errorf("Specificity = %d, %d, want 3, 2", a.Specificity(), c.Specificity())
	}
	if !a.SameConditions(b) {
		t.Error("variants with the same conditions are told apart")
	}
	b.Values[0].Values = []string{"b"}
	if a.SameConditions(b) || a.SameConditions(c) {
		t.Error("variants with different conditions are not told apart")
	}
}
