package runtime

import (
	"encoding/json"
	"reflect"
	"testing"
)

// decodeWith decodes data into p with dec, as a generated UnmarshalJSON
// does, for the tests of this file.
func decodeWith[T any](data string, p *T, dec func(*JSONReader, *T) error) error {
	return DecodeJSONScalarBytes([]byte(data), p, dec)
}

func TestDecodeJSONSliceAgreesWithEncodingJSON(t *testing.T) {
	strs := func(d *JSONReader, p *[]string) error { return DecodeJSONSlice(d, p, DecodeJSONStringTo[string]) }
	for _, in := range []string{`null`, `[]`, `["a"]`, `["a","b","c"]`, `[ "x" , "y" ]`} {
		for _, start := range [][]string{nil, {"p", "q", "r", "s"}, make([]string, 0, 8)} {
			var want, got []string
			want = append(want, start...)
			got = append(got, start...)
			if err := json.Unmarshal([]byte(in), &want); err != nil {
				t.Fatal(err)
			}
			if err := decodeWith(in, &got, strs); err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			if !reflect.DeepEqual(got, want) || (got == nil) != (want == nil) {
				t.Errorf("%s over %q: got %#v, want %#v", in, start, got, want)
			}
		}
	}
	var s []string
	for _, bad := range []string{`{}`, `"a"`, `[1]`, `["a",]`, `["a"`} {
		if err := decodeWith(bad, &s, strs); err == nil {
			t.Errorf("%s: decoded as %q, want an error", bad, s)
		}
	}
}

func TestDecodeJSONSliceDecodesOverElements(t *testing.T) {
	// Elements already in the slice are decoded over, as encoding/json
	// does: a member the input omits keeps its value.
	s := []point{{X: 1, Y: 2}}
	dec := func(d *JSONReader, p *[]point) error { return DecodeJSONSlice(d, p, DecodeJSONWith[point]) }
	if err := decodeWith(`[{"x":5},{"y":6}]`, &s, dec); err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].X != 5 || s[0].Y != 2 || s[1].Y != 6 || s[0].calls != 1 || s[1].calls != 1 {
		t.Fatalf("got %+v", s)
	}
}

func TestDecodeJSONMap(t *testing.T) {
	dec := func(d *JSONReader, p *map[string]int64) error { return DecodeJSONMap(d, p, DecodeJSONInt64To[int64]) }
	for _, in := range []string{`null`, `{}`, `{"a":1}`, `{"a":1,"b":2,"a":3}`, `{"\u00e9":100}`} {
		var want, got map[string]int64
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if err := decodeWith(in, &got, dec); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !reflect.DeepEqual(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%s: got %#v, want %#v", in, got, want)
		}
	}
	// A map already there is replaced, not merged into: decoding is the
	// whole value of the member.
	m := map[string]int64{"old": 1}
	if err := decodeWith(`{"new":2}`, &m, dec); err != nil || len(m) != 1 || m["new"] != 2 {
		t.Fatalf("got %v, %v", m, err)
	}
	if err := decodeWith(`{"a":"x"}`, &m, dec); err == nil {
		t.Fatal("a string decoded as an integer")
	}
}

func TestDecodeJSONOptCollections(t *testing.T) {
	slice := func(d *JSONReader, o *Opt[[]string]) error {
		return DecodeJSONOptSlice(d, o, DecodeJSONStringTo[string])
	}
	o := Some([]string{"x"})
	if err := decodeWith(`null`, &o, slice); err != nil || o.Set || o.Value != nil {
		t.Fatalf("null: %+v, %v", o, err)
	}
	if err := decodeWith(`[]`, &o, slice); err != nil || !o.Set || o.Value == nil || len(o.Value) != 0 {
		t.Fatalf("[]: %+v, %v", o, err)
	}
	if err := decodeWith(`[1]`, &o, slice); err == nil {
		t.Fatal("[1] decoded as strings")
	}
	obj := func(d *JSONReader, o *Opt[map[string]string]) error {
		return DecodeJSONOptMap(d, o, DecodeJSONStringTo[string])
	}
	var m Opt[map[string]string]
	if err := decodeWith(`{"k":"v"}`, &m, obj); err != nil || !m.Set || m.Value["k"] != "v" {
		t.Fatalf("object: %+v, %v", m, err)
	}
	if err := decodeWith(`null`, &m, obj); err != nil || m.Set {
		t.Fatalf("null: %+v, %v", m, err)
	}
}

func TestDecodeJSONExtra(t *testing.T) {
	var extra map[string]json.RawMessage
	d := new(JSONReader)
	for _, in := range []string{"{\"a\": [1, 2], \"\xff\": true}", `{"a": 3}`} {
		d.ResetBytes([]byte(in))
		it, err := d.ObjIter()
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			if key, err := DecodeJSONExtra(d, &extra, it.Key(), DecodeJSONRawTo[json.RawMessage]); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]json.RawMessage{"a": json.RawMessage(`3`), "\ufffd": json.RawMessage(`true`)}
	if !reflect.DeepEqual(extra, want) {
		t.Fatalf("got %q, want %q", extra, want)
	}
}

func TestDecodeJSONPtr(t *testing.T) {
	dec := func(d *JSONReader, p **int64) error { return DecodeJSONPtr(d, p, DecodeJSONInt64To[int64]) }
	var p *int64
	if err := decodeWith(`7`, &p, dec); err != nil || p == nil || *p != 7 {
		t.Fatalf("7: %v, %v", p, err)
	}
	// A value decodes into the pointer already there.
	old := p
	if err := decodeWith(`8`, &p, dec); err != nil || p != old || *p != 8 {
		t.Fatalf("8: %v (first %v), %v", p, old, err)
	}
	if err := decodeWith(`null`, &p, dec); err != nil || p != nil {
		t.Fatalf("null: %v, %v; want nil", p, err)
	}
	if err := decodeWith(`"x"`, &p, dec); err == nil {
		t.Fatal(`"x" decoded as an integer`)
	}
}
