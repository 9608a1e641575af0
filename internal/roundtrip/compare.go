package roundtrip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// NumberMode says when two JSON numbers are equal.
type NumberMode int

const (
	// NumbersValue, the default, wants the same decimal value, compared
	// exactly as rationals (never through float64): 1.0, 1 and 1e0 are
	// equal, and 0.1000000000000000001 is not 0.1. It is the contract the
	// generated package docs state: spellings of a number are normalised,
	// values never change.
	NumbersValue NumberMode = iota
	// NumbersExact wants a number back with the very text it was given:
	// 1.0 coming back as 1, or 1e2 as 100, is a difference (reported as a
	// number-spelling effect, apart from a changed value).
	NumbersExact
)

// ParseNumberMode reads "value" (the default) or "exact".
func ParseNumberMode(s string) (NumberMode, error) {
	switch s {
	case "", "value":
		return NumbersValue, nil
	case "exact":
		return NumbersExact, nil
	}
	return 0, fmt.Errorf("number mode %q: want value or exact", s)
}

// Effects: what went wrong with one instance. A class of failure is an
// effect together with the schema construct where it showed.
const (
	EffectPanic           = "panic"            // decode or encode panicked
	EffectRefused         = "refused"          // a valid instance was refused
	EffectEncodeError     = "encode-error"     // the decoded value could not be encoded
	EffectBadOutput       = "bad-output"       // the encoder wrote text that is not JSON
	EffectNullLost        = "null-lost"        // a null came back as a value
	EffectNullInvented    = "null-invented"    // a value came back as null
	EffectMemberDropped   = "member-dropped"   // a member is missing from the output
	EffectMemberInvented  = "member-invented"  // the output has a member the input lacked
	EffectKindChanged     = "kind-changed"     // a value came back as another JSON kind
	EffectNumberSpelling  = "number-spelling"  // same number, other text
	EffectNumberChanged   = "number-changed"   // another number
	EffectStringChanged   = "string-changed"   // another string
	EffectBoolChanged     = "bool-changed"     // another boolean
	EffectLengthChanged   = "length-changed"   // an array of another length
	EffectUnstable        = "unstable"         // decoding the output and encoding again changed it
	EffectInvalidAccepted = "invalid-accepted" // an instance the schema refuses was decoded without error
	EffectClientAccepted  = "client-accepted"  // the same, by runtime.UnmarshalJSON only (json.Unmarshal refused it)
	EffectClientDiffers   = "client-differs"   // runtime.UnmarshalJSON and json.Unmarshal decode a valid instance differently
)

// Diff is one difference between an input and an output.
type Diff struct {
	// Path is the JSON pointer of the difference.
	Path string
	// Effect is one of the Effect constants.
	Effect string
	// Want and Got describe the values at Path.
	Want, Got string
}

func (d Diff) String() string {
	p := d.Path
	if p == "" {
		p = "/"
	}
	return fmt.Sprintf("%s at %s: want %s, got %s", d.Effect, p, d.Want, d.Got)
}

// ParseJSON decodes one JSON text into nil, bool, json.Number, string,
// []any or map[string]any (the last of duplicate members wins), and refuses
// trailing data.
func ParseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// Compare returns the differences between want and got, decoded by
// ParseJSON, in path order: objects are compared as sets of members,
// arrays element by element, numbers as mode says.
func Compare(want, got any, mode NumberMode) []Diff {
	var out []Diff
	compare("", want, got, mode, &out)
	return out
}

func kindOf(x any) Kind {
	switch x.(type) {
	case bool:
		return Bool
	case json.Number:
		return Number
	case string:
		return String
	case []any:
		return Array
	case map[string]any:
		return Object
	}
	return Null
}

// show renders a value briefly for a report.
func show(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return Shorten(string(b), 80)
}

// Shorten cuts s to at most n bytes (on a rune boundary), marking the cut.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func compare(path string, want, got any, mode NumberMode, out *[]Diff) {
	wk, gk := kindOf(want), kindOf(got)
	if wk != gk {
		eff := EffectKindChanged
		switch {
		case wk == Null:
			eff = EffectNullLost
		case gk == Null:
			eff = EffectNullInvented
		}
		*out = append(*out, Diff{Path: path, Effect: eff, Want: show(want), Got: show(got)})
		return
	}
	switch w := want.(type) {
	case bool:
		if w != got.(bool) {
			*out = append(*out, Diff{Path: path, Effect: EffectBoolChanged, Want: show(want), Got: show(got)})
		}
	case string:
		if w != got.(string) {
			*out = append(*out, Diff{Path: path, Effect: EffectStringChanged, Want: show(want), Got: show(got)})
		}
	case json.Number:
		g := got.(json.Number)
		if w == g {
			return
		}
		same := NumbersEqual(string(w), string(g))
		switch {
		case !same:
			*out = append(*out, Diff{Path: path, Effect: EffectNumberChanged, Want: string(w), Got: string(g)})
		case mode == NumbersExact:
			*out = append(*out, Diff{Path: path, Effect: EffectNumberSpelling, Want: string(w), Got: string(g)})
		}
	case []any:
		g := got.([]any)
		if len(w) != len(g) {
			*out = append(*out, Diff{Path: path, Effect: EffectLengthChanged, Want: show(want), Got: show(got)})
			return
		}
		for i := range w {
			compare(path+"/"+strconv.Itoa(i), w[i], g[i], mode, out)
		}
	case map[string]any:
		g := got.(map[string]any)
		names := make([]string, 0, len(w)+len(g))
		for k := range w {
			names = append(names, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			p := path + "/" + escapePointer(k)
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				*out = append(*out, Diff{Path: p, Effect: EffectMemberDropped, Want: show(wv), Got: "(absent)"})
			case !inW:
				*out = append(*out, Diff{Path: p, Effect: EffectMemberInvented, Want: "(absent)", Got: show(gv)})
			default:
				compare(p, wv, gv, mode, out)
			}
		}
	}
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// NumbersEqual reports whether two JSON number literals have the same
// decimal value, compared exactly.
func NumbersEqual(a, b string) bool {
	ra, ok1 := new(big.Rat).SetString(a)
	rb, ok2 := new(big.Rat).SetString(b)
	if !ok1 || !ok2 {
		return a == b
	}
	return ra.Cmp(rb) == 0
}
