package roundtrip

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Mode selects which optional members a synthesized instance carries.
type Mode int

// The synthesis modes; Synthesize cycles through them.
const (
	// RequiredOnly writes required members only, arrays at their minimum
	// length (usually empty) and maps empty.
	RequiredOnly Mode = iota
	// AllMembers writes every member the schema describes, plus unknown
	// members where additionalProperties allows them.
	AllMembers
	// RandomMembers writes each optional member by a coin toss.
	RandomMembers
)

var modeNames = [...]string{"required", "all", "random"}

func (m Mode) String() string { return modeNames[m] }

// Limits bound the size of synthesized instances.
type Limits struct {
	// Depth is the nesting depth past which only required members, minimal
	// arrays and nulls (where allowed) are written; 5 when zero.
	Depth int
	// Nodes is the number of values past which the same happens; 200 when
	// zero.
	Nodes int
}

// Instance is one synthesized valid instance.
type Instance struct {
	// Mode is how it was synthesized.
	Mode Mode
	// Variant names a deliberate spelling beyond the canonical one:
	// "escaped" (characters of strings written as \u escapes, surrogate
	// pairs for those beyond the BMP, whitespace between tokens),
	// "respelled" (numbers written in another spelling of the same value,
	// such as 1.0 or 1e2) or "duplicate" (a member written twice, the last
	// one counting); "" otherwise.
	Variant string
	// JSON is the instance's text.
	JSON []byte
}

// Synthesize returns up to n distinct instances valid against schema, made
// from a random source seeded with seed, and how many candidates the
// validator refused (those are discarded, not failures: the synthesizer
// does not model every keyword). Candidates are checked with kin-openapi's
// Schema.VisitJSON.
func Synthesize(schema *openapi3.Schema, n int, seed uint64, lim Limits) (out []Instance, discarded int) {
	if lim.Depth <= 0 {
		lim.Depth = 5
	}
	if lim.Nodes <= 0 {
		lim.Nodes = 200
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	seen := map[string]bool{}
	attempts := 4 * n
	for i := 0; i < attempts && len(out) < n; i++ {
		mode := Mode(i % 3)
		g := &synth{rng: rng, mode: mode, lim: lim}
		v := g.value(schema, 0)
		if v == nil {
			discarded++
			continue
		}
		inst := Instance{Mode: mode}
		switch {
		case i%8 == 1 || i%8 == 3:
			inst.Variant = "escaped"
		case i%8 == 5 && respell(v, rng):
			inst.Variant = "respelled"
		case i%8 == 7 && duplicateMember(g, v, schema):
			inst.Variant = "duplicate"
		}
		if err := schema.VisitJSON(v.Any()); err != nil {
			discarded++
			continue
		}
		key := string(v.Encode(nil))
		if seen[key] {
			continue
		}
		seen[key] = true
		if inst.Variant == "escaped" {
			inst.JSON = v.Encode(rng)
		} else {
			inst.JSON = v.Encode(nil)
		}
		out = append(out, inst)
	}
	return out, discarded
}

type synth struct {
	rng   *rand.Rand
	mode  Mode
	lim   Limits
	nodes int
	// patLo and patHi are the length bounds of the string a pattern is
	// being matched for.
	patLo, patHi int
}

func (g *synth) chance(p float64) bool { return g.rng.Float64() < p }

// minimal reports whether the instance has grown enough that only what the
// schema requires should be added.
func (g *synth) minimal(depth int) bool {
	return g.mode == RequiredOnly || depth >= g.lim.Depth || g.nodes >= g.lim.Nodes
}

// hardDepth is where synthesis gives up: a schema whose required members
// recurse forever has no finite instance.
const hardDepth = 24

func permitsNull(s *openapi3.Schema) bool {
	return s.Nullable || (s.Type != nil && s.Type.Includes("null"))
}

// value returns an instance of s, or nil when it finds none.
func (g *synth) value(s *openapi3.Schema, depth int) *Value {
	g.nodes++
	if depth > hardDepth {
		return nil
	}
	if s == nil {
		return g.anyValue(depth)
	}
	if s.Always != nil {
		if *s.Always {
			return g.anyValue(depth)
		}
		return nil
	}
	if permitsNull(s) {
		p := 0.15
		if g.minimal(depth) && depth > 0 {
			p = 0.6
		}
		if g.chance(p) {
			return &Value{Kind: Null}
		}
	}
	if s.Const != nil {
		v, _ := FromAny(s.Const)
		return v
	}
	if len(s.Enum) > 0 {
		v, _ := FromAny(s.Enum[g.rng.IntN(len(s.Enum))])
		return v
	}
	if len(s.AllOf) > 0 {
		s = mergeAllOf(s)
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		return g.union(s, depth)
	}
	switch g.pickType(s) {
	case "null":
		return &Value{Kind: Null}
	case "boolean":
		return &Value{Kind: Bool, Bool: g.chance(0.5)}
	case "integer":
		return g.integer(s)
	case "number":
		return g.number(s)
	case "string":
		return g.str(s)
	case "array":
		return g.array(s, depth)
	case "object":
		return g.object(s, depth)
	}
	return g.anyValue(depth)
}

// pickType chooses one of the JSON Schema types s allows, inferring one
// from its keywords when it names none; "" means any value.
func (g *synth) pickType(s *openapi3.Schema) string {
	if s.Type != nil {
		var ts []string
		for _, t := range *s.Type {
			if t != "null" {
				ts = append(ts, t)
			}
		}
		if len(ts) > 0 {
			return ts[g.rng.IntN(len(ts))]
		}
		if s.Type.Includes("null") {
			return "null"
		}
	}
	switch {
	case len(s.Properties) > 0 || len(s.Required) > 0 || s.AdditionalProperties.Schema != nil || s.MinProps > 0:
		return "object"
	case s.Items != nil || s.MinItems > 0 || s.MaxItems != nil:
		return "array"
	case s.Min != nil || s.Max != nil || s.MultipleOf != nil:
		return "number"
	case s.Pattern != "" || s.MinLength > 0 || s.MaxLength != nil || s.Format != "":
		return "string"
	}
	return ""
}

// mergeAllOf folds the allOf parts of s into one schema: the union of
// their members and required names, and the first of each other keyword.
func mergeAllOf(s *openapi3.Schema) *openapi3.Schema {
	m := *s
	m.AllOf = nil
	m.Properties = openapi3.Schemas{}
	for k, v := range s.Properties {
		m.Properties[k] = v
	}
	m.Required = append([]string(nil), s.Required...)
	nullable := true
	for _, part := range s.AllOf {
		if part == nil || part.Value == nil {
			continue
		}
		p := mergeAllOf(part.Value)
		nullable = nullable && permitsNull(p)
		for k, v := range p.Properties {
			if _, ok := m.Properties[k]; !ok {
				m.Properties[k] = v
			}
		}
		m.Required = append(m.Required, p.Required...)
		if m.Type == nil {
			m.Type = p.Type
		}
		if m.Format == "" {
			m.Format = p.Format
		}
		if m.Enum == nil {
			m.Enum = p.Enum
		}
		if m.Const == nil {
			m.Const = p.Const
		}
		if m.Items == nil {
			m.Items = p.Items
		}
		if m.Pattern == "" {
			m.Pattern = p.Pattern
		}
		if m.Min == nil {
			m.Min, m.ExclusiveMin = p.Min, p.ExclusiveMin
		}
		if m.Max == nil {
			m.Max, m.ExclusiveMax = p.Max, p.ExclusiveMax
		}
		if m.MaxLength == nil {
			m.MaxLength = p.MaxLength
		}
		m.MinLength = max(m.MinLength, p.MinLength)
		m.MinItems = max(m.MinItems, p.MinItems)
		if m.MaxItems == nil {
			m.MaxItems = p.MaxItems
		}
		if m.AdditionalProperties.Has == nil && m.AdditionalProperties.Schema == nil {
			m.AdditionalProperties = p.AdditionalProperties
		}
		if len(m.OneOf) == 0 && len(m.AnyOf) == 0 {
			m.OneOf, m.AnyOf = p.OneOf, p.AnyOf
			if m.Discriminator == nil {
				m.Discriminator = p.Discriminator
			}
		}
	}
	if len(s.AllOf) > 0 && nullable {
		m.Nullable = true
	}
	if len(m.Properties) == 0 {
		m.Properties = nil
	}
	return &m
}

// union picks one branch of a oneOf (else anyOf) and writes an instance of
// it, joined with the members s itself describes, and with the
// discriminator member set to the branch's tag. Whether the instance
// matches exactly one oneOf branch is left to the validator.
func (g *synth) union(s *openapi3.Schema, depth int) *Value {
	branches := s.OneOf
	if len(branches) == 0 {
		branches = s.AnyOf
	}
	b := branches[g.rng.IntN(len(branches))]
	if b == nil || b.Value == nil {
		return nil
	}
	outer := *s
	outer.OneOf, outer.AnyOf, outer.Discriminator = nil, nil, nil
	outer.Nullable = false
	var joined *openapi3.Schema
	if outerIsEmpty(&outer) {
		joined = b.Value
	} else {
		outer.AllOf = openapi3.SchemaRefs{b}
		joined = mergeAllOf(&outer)
	}
	v := g.value(joined, depth)
	if v != nil && v.Kind == Object && len(s.OneOf) > 0 {
		g.spoilOthers(v, joined, s.OneOf, b)
	}
	if v == nil || v.Kind != Object || s.Discriminator == nil || s.Discriminator.PropertyName == "" {
		return v
	}
	name := s.Discriminator.PropertyName
	// The tag is the mapping's key for the branch (a mapping value may be a
	// reference or a bare schema name); without one, a value the branch
	// itself fixes (an enum or const) stays, else the schema's name is it.
	tag := ""
	for _, k := range sortedKeys(s.Discriminator.Mapping) {
		if ref := s.Discriminator.Mapping[k]; ref.Ref != "" && lastSegment(ref.Ref) == lastSegment(b.Ref) {
			tag = k
			break
		}
	}
	if tag == "" {
		if fixesMember(b.Value, name) || b.Ref == "" {
			return v
		}
		tag = lastSegment(b.Ref)
	}
	for i, m := range v.Members {
		if m.Name == name {
			if m.Value.Kind == String {
				v.Members[i].Value = &Value{Kind: String, Text: tag}
			}
			return v
		}
	}
	v.Members = append(v.Members, Member{Name: name, Value: &Value{Kind: String, Text: tag}})
	g.rng.Shuffle(len(v.Members), func(i, j int) { v.Members[i], v.Members[j] = v.Members[j], v.Members[i] })
	return v
}

// spoilOthers makes the object v, an instance of the oneOf branch chosen
// (joined with the schema around it), fail the other branches it also
// matches: it sets a member that such a branch describes, and the chosen
// one leaves free, to a value of a kind that branch refuses.
func (g *synth) spoilOthers(v *Value, chosen *openapi3.Schema, branches openapi3.SchemaRefs, picked *openapi3.SchemaRef) {
	if len(chosen.AllOf) > 0 {
		chosen = mergeAllOf(chosen)
	}
	ap := chosen.AdditionalProperties
	if ap.Schema != nil || (ap.Has != nil && !*ap.Has) {
		return
	}
	for _, other := range branches {
		if other == picked || other == nil || other.Value == nil || other.Value.VisitJSON(v.Any()) != nil {
			continue
		}
		os := other.Value
		if len(os.AllOf) > 0 {
			os = mergeAllOf(os)
		}
		for _, name := range sortedKeys(os.Properties) {
			if _, mine := chosen.Properties[name]; mine || os.Properties[name] == nil || os.Properties[name].Value == nil {
				continue
			}
			ps := os.Properties[name].Value
			for _, w := range wrongKinds {
				wv, _ := ParseJSON([]byte(w.text))
				if wv == nil || ps.VisitJSON(wv) == nil {
					continue
				}
				val, _ := FromAny(wv)
				setMember(v, name, val)
				break
			}
			if os.VisitJSON(v.Any()) != nil {
				break
			}
		}
	}
}

// setMember sets the member name of v, adding it when v has none.
func setMember(v *Value, name string, val *Value) {
	for i, m := range v.Members {
		if m.Name == name {
			v.Members[i].Value = val
			return
		}
	}
	v.Members = append(v.Members, Member{Name: name, Value: val})
}

// lastSegment returns what follows the last slash of a reference.
func lastSegment(ref string) string { return ref[strings.LastIndexByte(ref, '/')+1:] }

// fixesMember reports whether s (or one of its allOf parts) gives the
// member name an enum or a const.
func fixesMember(s *openapi3.Schema, name string) bool {
	if s == nil {
		return false
	}
	if p := s.Properties[name]; p != nil && p.Value != nil && (len(p.Value.Enum) > 0 || p.Value.Const != nil) {
		return true
	}
	for _, part := range s.AllOf {
		if part != nil && fixesMember(part.Value, name) {
			return true
		}
	}
	return false
}

// outerIsEmpty reports whether the schema around a union adds nothing to
// its branches.
func outerIsEmpty(s *openapi3.Schema) bool {
	return len(s.Properties) == 0 && len(s.Required) == 0 && len(s.AllOf) == 0 &&
		s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil && s.Items == nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// unknownNames are member names a schema does not describe: spaces,
// quotes, escapes, non-ASCII and Go-ish field names included.
var unknownNames = []string{
	"x_extra", "ünïcødé", "with space", `quote"and\backslash`, "emoji😀",
	"", "line\nbreak", "AdditionalProperties", "0", "𝄞clef", "nul\x00byte", "\u2028sep",
}

func (g *synth) object(s *openapi3.Schema, depth int) *Value {
	v := &Value{Kind: Object}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	minimal := g.minimal(depth)
	for _, name := range sortedKeys(s.Properties) {
		want := required[name]
		if !want && !minimal {
			want = g.mode == AllMembers || g.chance(0.5)
		}
		if !want {
			continue
		}
		var ps *openapi3.Schema
		if ref := s.Properties[name]; ref != nil {
			ps = ref.Value
		}
		mv := g.value(ps, depth+1)
		if mv == nil {
			if required[name] {
				return nil
			}
			continue
		}
		v.Members = append(v.Members, Member{Name: name, Value: mv})
	}
	for _, name := range s.Required {
		if _, described := s.Properties[name]; described || has(v, name) {
			continue
		}
		mv := g.anyValue(depth + 1)
		v.Members = append(v.Members, Member{Name: name, Value: mv})
	}
	ap := s.AdditionalProperties
	free := ap.Schema == nil && (ap.Has == nil || *ap.Has)
	extra := 0
	switch {
	case ap.Schema != nil && len(s.Properties) == 0:
		if !minimal {
			extra = g.rng.IntN(4)
		}
	case ap.Schema != nil || free:
		if !minimal && g.chance(0.5) {
			extra = 1 + g.rng.IntN(2)
		}
	}
	for need := int(s.MinProps) - len(v.Members); need > extra; {
		extra = need
	}
	for i := 0; i < extra; i++ {
		name := g.extraName(s, v)
		if name == "" && has(v, "") {
			break
		}
		var mv *Value
		if ap.Schema != nil {
			mv = g.value(ap.Schema.Value, depth+1)
		} else if free {
			mv = g.anyValue(depth + 1)
		}
		if mv == nil {
			break
		}
		v.Members = append(v.Members, Member{Name: name, Value: mv})
	}
	g.rng.Shuffle(len(v.Members), func(i, j int) { v.Members[i], v.Members[j] = v.Members[j], v.Members[i] })
	return v
}

func has(v *Value, name string) bool {
	for _, m := range v.Members {
		if m.Name == name {
			return true
		}
	}
	return false
}

// extraName returns a member name s does not describe and v does not hold.
func (g *synth) extraName(s *openapi3.Schema, v *Value) string {
	for range 8 {
		name := unknownNames[g.rng.IntN(len(unknownNames))]
		if g.chance(0.3) {
			name = fmt.Sprintf("k%d", g.rng.IntN(1000))
		}
		if _, described := s.Properties[name]; !described && !has(v, name) {
			return name
		}
	}
	return fmt.Sprintf("extra_%d", len(v.Members))
}

func (g *synth) array(s *openapi3.Schema, depth int) *Value {
	lo := int(min(s.MinItems, 64))
	hi := lo + 3
	if s.MaxItems != nil && int(*s.MaxItems) < hi {
		hi = int(*s.MaxItems)
	}
	n := lo
	switch {
	case g.minimal(depth):
	case g.mode == AllMembers:
		n = max(lo, min(hi, 1+g.rng.IntN(3)))
	default:
		n = lo + g.rng.IntN(max(1, hi-lo+1))
	}
	var items *openapi3.Schema
	if s.Items != nil {
		items = s.Items.Value
	}
	v := &Value{Kind: Array}
	seen := map[string]bool{}
	for tries := 0; len(v.Items) < n && tries < 3*n; tries++ {
		it := g.value(items, depth+1)
		if it == nil {
			return nil
		}
		if s.UniqueItems {
			key := string(it.Encode(nil))
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		v.Items = append(v.Items, it)
	}
	return v
}

// anyValue returns a value of any kind, nested less the deeper it is.
func (g *synth) anyValue(depth int) *Value {
	kinds := 6
	if g.minimal(depth) || depth > 2 {
		kinds = 4
	}
	switch g.rng.IntN(kinds) {
	case 0:
		return &Value{Kind: Null}
	case 1:
		return &Value{Kind: Bool, Bool: g.chance(0.5)}
	case 2:
		if g.chance(0.5) {
			return g.integer(&openapi3.Schema{})
		}
		return g.number(&openapi3.Schema{})
	case 3:
		return &Value{Kind: String, Text: g.text(0, 6)}
	case 4:
		v := &Value{Kind: Array}
		for range g.rng.IntN(3) {
			v.Items = append(v.Items, g.anyValue(depth+1))
		}
		return v
	}
	v := &Value{Kind: Object}
	for i := range g.rng.IntN(3) {
		v.Members = append(v.Members, Member{Name: fmt.Sprintf("%s%d", unknownNames[g.rng.IntN(len(unknownNames))], i), Value: g.anyValue(depth + 1)})
	}
	return v
}

// textPieces are the runes strings are made of: ASCII, accents, CJK,
// emoji beyond the BMP, quotes, backslashes, control characters, JSON's
// troublesome separators and HTML characters.
var textPieces = []string{
	"a", "b", "z", "Q", "0", "7", " ", "-", "_", ".", "é", "ß", "中", "文", "😀", "𝄞",
	"\n", "\t", "\r", `"`, `\`, "/", "\x00", "\x1f", "\u2028", "\u2029", "<", "&", ">", "\ufeff", "\u007f",
}

// text returns a string of lo to about hi runes, hi ignored when below lo.
func (g *synth) text(lo, hi int) string {
	if hi < lo {
		hi = lo
	}
	n := lo + g.rng.IntN(hi-lo+1)
	var b strings.Builder
	for range n {
		b.WriteString(textPieces[g.rng.IntN(len(textPieces))])
	}
	return b.String()
}

func (g *synth) str(s *openapi3.Schema) *Value {
	lo := int(min(s.MinLength, 256))
	hi := lo + 12
	if s.MaxLength != nil && int(*s.MaxLength) < hi {
		hi = int(*s.MaxLength)
	}
	if s.Pattern != "" {
		hiP := 1 << 16
		if s.MaxLength != nil {
			hiP = int(min(*s.MaxLength, 1<<16))
		}
		if t, ok := g.matching(s.Pattern, lo, hiP); ok {
			return &Value{Kind: String, Text: t}
		}
	}
	if t, ok := g.formatted(s.Format); ok {
		return &Value{Kind: String, Text: t}
	}
	return &Value{Kind: String, Text: g.text(lo, hi)}
}

// formatted returns a string in format, spelled canonically (as Go's
// encoders write it: RFC 3339 date-times with the fraction trimmed, padded
// standard base64), or false for a format it does not know.
func (g *synth) formatted(format string) (string, bool) {
	t := time.Unix(g.rng.Int64N(4_000_000_000)-1_000_000_000, 0).UTC()
	switch format {
	case "date-time":
		if g.chance(0.5) {
			t = t.Add(time.Duration(g.rng.Int64N(int64(time.Second))))
		}
		if g.chance(0.3) {
			t = t.In(time.FixedZone("", (g.rng.IntN(28)-14)*1800))
		}
		return t.Format(time.RFC3339Nano), true
	case "date":
		return t.Format(time.DateOnly), true
	case "time":
		return t.Format(time.TimeOnly), true
	case "uuid":
		var b [16]byte
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), true
	case "byte":
		b := make([]byte, g.rng.IntN(12))
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		return base64.StdEncoding.EncodeToString(b), true
	case "email":
		return fmt.Sprintf("user%d@example.com", g.rng.IntN(1000)), true
	case "uri", "url", "uri-reference", "iri":
		return fmt.Sprintf("https://example.com/p/%d?q=%d#f", g.rng.IntN(1000), g.rng.IntN(10)), true
	case "hostname":
		return fmt.Sprintf("host%d.example.com", g.rng.IntN(1000)), true
	case "ipv4":
		return fmt.Sprintf("192.0.2.%d", g.rng.IntN(256)), true
	case "ipv6":
		return fmt.Sprintf("2001:db8::%x", g.rng.IntN(65536)), true
	case "int32", "int64", "uint64", "integer":
		return strconv.FormatInt(g.rng.Int64N(2_000_000)-1_000_000, 10), true
	case "decimal", "double", "float", "number":
		return strconv.FormatFloat(float64(g.rng.IntN(2_000_000)-1_000_000)/1000, 'f', -1, 64), true
	}
	return "", false
}

// matching returns a string the regular expression matches, of lo to hi
// runes where it can, or false.
func (g *synth) matching(pattern string, lo, hi int) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	g.patLo, g.patHi = lo, min(hi, 1000)
	defer func() { g.patLo, g.patHi = 0, 0 }()
	for range 8 {
		var b strings.Builder
		g.regexString(&b, re, 0)
		t := b.String()
		if n := len([]rune(t)); n >= lo && n <= hi {
			return t, true
		}
	}
	return "", false
}

func (g *synth) regexString(b *strings.Builder, re *syntax.Regexp, depth int) {
	if depth > 40 {
		return
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		if len(re.Rune) < 2 {
			return
		}
		// Prefer printable ranges; pick a range, then a rune in it.
		i := 2 * g.rng.IntN(len(re.Rune)/2)
		lo, hi := re.Rune[i], re.Rune[i+1]
		if hi > lo+1000 {
			hi = lo + 1000
		}
		b.WriteRune(lo + rune(g.rng.IntN(int(hi-lo)+1)))
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteString([]string{"a", "Z", "5", "é", "😀", " "}[g.rng.IntN(6)])
	case syntax.OpCapture:
		g.regexString(b, re.Sub[0], depth+1)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			g.regexString(b, sub, depth+1)
		}
	case syntax.OpAlternate:
		g.regexString(b, re.Sub[g.rng.IntN(len(re.Sub))], depth+1)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, 3
		switch re.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 {
				hi = lo + 3
			}
		}
		n := lo + g.rng.IntN(hi-lo+1)
		if re.Op != syntax.OpQuest && re.Op != syntax.OpRepeat && g.patLo > 0 && g.chance(0.5) {
			// An unbounded repetition under a length constraint: try
			// filling the constraint with it.
			n = max(lo, g.patLo)
			if g.chance(0.3) && g.patHi > g.patLo {
				n = g.patHi
			}
		}
		for range n {
			g.regexString(b, re.Sub[0], depth+1)
		}
	}
}

// integer returns an integer within the schema's bounds and int64 (int32
// for format int32), favouring zero, ±1, the bounds, and large values.
func (g *synth) integer(s *openapi3.Schema) *Value {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if s.Format == "int32" {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	if s.Min != nil && *s.Min > -9e18 {
		m := int64(math.Ceil(*s.Min))
		if s.ExclusiveMin.IsTrue() && float64(m) == *s.Min {
			m++
		}
		lo = max(lo, m)
	}
	if v := s.ExclusiveMin.Value; v != nil && *v > -9e18 {
		lo = max(lo, int64(math.Floor(*v))+1)
	}
	if s.Max != nil && *s.Max < 9e18 {
		m := int64(math.Floor(*s.Max))
		if s.ExclusiveMax.IsTrue() && float64(m) == *s.Max {
			m--
		}
		hi = min(hi, m)
	}
	if v := s.ExclusiveMax.Value; v != nil && *v < 9e18 {
		hi = min(hi, int64(math.Ceil(*v))-1)
	}
	cands := []int64{0, 1, -1, lo, hi, 1 << 53, -(1<<53 + 1), 9223372036854774784, math.MinInt64, math.MaxInt32, math.MinInt32}
	var x int64
	switch r := g.rng.IntN(10); {
	case r < 4:
		x = cands[g.rng.IntN(len(cands))]
	case r < 8:
		x = g.rng.Int64N(2000) - 1000
	default:
		x = int64(g.rng.Uint64())
	}
	if x < lo || x > hi {
		span := uint64(hi - lo)
		if span == math.MaxUint64 {
			x = int64(g.rng.Uint64())
		} else {
			x = lo + int64(g.rng.Uint64N(min(span, 1000)+1))
		}
	}
	if m := s.MultipleOf; m != nil && *m >= 1 && *m == math.Trunc(*m) && *m < 1e15 {
		step := int64(*m)
		x -= x % step
		if x < lo {
			x += step
		}
	}
	return &Value{Kind: Number, Text: strconv.FormatInt(x, 10)}
}

// number returns a number within the schema's bounds, spelled as Go's
// encoder spells it: at most 6 significant digits for format float (which
// float32 holds exactly), else at most 15 (which float64 holds exactly).
func (g *synth) number(s *openapi3.Schema) *Value {
	digits := 15
	if s.Format == "float" {
		digits = 6
	}
	lo, hi := -math.MaxFloat64, math.MaxFloat64
	if s.Min != nil {
		lo = *s.Min
	}
	if v := s.ExclusiveMin.Value; v != nil {
		lo = math.Nextafter(*v, math.Inf(1))
	}
	if s.Max != nil {
		hi = *s.Max
	}
	if v := s.ExclusiveMax.Value; v != nil {
		hi = math.Nextafter(*v, math.Inf(-1))
	}
	var x float64
	switch r := g.rng.IntN(10); {
	case r < 3:
		x = []float64{0, 1, -1, 0.5, -2.25, 0.1, 1e-7, 1e21, -3.4e38, 1.5e300, 123456.789}[g.rng.IntN(11)]
	case r < 7:
		x = float64(g.rng.IntN(2_000_000)-1_000_000) / 1000
	default:
		mant := g.rng.Int64N(int64(math.Pow10(digits))) * (1 - 2*int64(g.rng.IntN(2)))
		x = float64(mant) * math.Pow10(g.rng.IntN(40)-20-digits)
	}
	if x < lo || x > hi {
		switch {
		case lo > -math.MaxFloat64 && hi < math.MaxFloat64:
			x = lo + (hi-lo)*float64(g.rng.IntN(5))/4
		case lo > -math.MaxFloat64:
			x = lo + float64(g.rng.IntN(100))
		default:
			x = hi - float64(g.rng.IntN(100))
		}
	}
	if m := s.MultipleOf; m != nil && *m > 0 {
		x = math.Round(x / *m) * *m
	}
	// Round to the digits the Go type holds, then spell it as Go does.
	x, _ = strconv.ParseFloat(strconv.FormatFloat(x, 'g', digits, 64), 64)
	var b []byte
	if s.Format == "float" {
		b, _ = json.Marshal(float32(x))
	} else {
		b, _ = json.Marshal(x)
	}
	if b == nil {
		b = []byte("0")
	}
	return &Value{Kind: Number, Text: string(b)}
}

// respell writes some numbers in v in another spelling of the same value
// (1 as 1.0 or 1e0, 100 as 1e2, 2.5 as 2.50 or 25e-1), and reports whether
// it changed any.
func respell(v *Value, rng *rand.Rand) bool {
	changed := false
	var walk func(*Value)
	walk = func(v *Value) {
		switch v.Kind {
		case Number:
			if t := otherSpelling(v.Text, rng); t != v.Text {
				v.Text, changed = t, true
			}
		case Array:
			for _, it := range v.Items {
				walk(it)
			}
		case Object:
			for _, m := range v.Members {
				walk(m.Value)
			}
		}
	}
	walk(v)
	return changed
}

func otherSpelling(t string, rng *rand.Rand) string {
	if strings.ContainsAny(t, "eE") {
		return t
	}
	mant, neg := strings.CutPrefix(t, "-")
	sign := ""
	if neg {
		sign = "-"
	}
	var out string
	switch {
	case !strings.Contains(mant, "."):
		trimmed := strings.TrimRight(mant, "0")
		switch {
		case trimmed != mant && trimmed != "" && rng.IntN(2) == 0:
			out = fmt.Sprintf("%s%se%d", sign, trimmed, len(mant)-len(trimmed))
		case rng.IntN(2) == 0:
			out = sign + mant + ".0"
		default:
			out = sign + mant + "E+0"
		}
	default:
		if rng.IntN(2) == 0 {
			out = sign + mant + "0"
		} else {
			out = sign + mant + "e0"
		}
	}
	if !NumbersEqual(t, out) {
		return t
	}
	return out
}

// duplicateMember writes one member of the top-level object v twice: first
// with another value of the member's schema, then with its own. The last one
// counts, so v's value does not change. It reports whether it did so.
func duplicateMember(g *synth, v *Value, s *openapi3.Schema) bool {
	if v.Kind != Object || len(v.Members) == 0 {
		return false
	}
	if len(s.AllOf) > 0 {
		s = mergeAllOf(s)
	}
	i := g.rng.IntN(len(v.Members))
	m := v.Members[i]
	var ps *openapi3.Schema
	switch ref := s.Properties[m.Name]; {
	case ref != nil:
		ps = ref.Value
	case s.AdditionalProperties.Schema != nil && len(s.OneOf) == 0 && len(s.AnyOf) == 0:
		ps = s.AdditionalProperties.Schema.Value
	default:
		// The member's schema is not known here (it comes from a union
		// branch, say): its first value could be one the schema refuses.
		return false
	}
	if ps == nil {
		return false
	}
	other := g.value(ps, 1)
	if other == nil {
		return false
	}
	v.Members = append(v.Members[:i], append([]Member{{Name: m.Name, Value: other}}, v.Members[i:]...)...)
	return true
}
