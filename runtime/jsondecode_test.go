package runtime

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/go-faster/jx"
)

// point decodes itself with a DecodeJSON that counts its calls.
type point struct {
	X, Y  int64
	calls int
}

func (p *point) DecodeJSON(d *jx.Decoder) error {
	p.calls++
	if d.Next() == jx.Null {
		return d.Null()
	}
	return d.ObjBytes(func(d *jx.Decoder, key []byte) error {
		var err error
		switch string(key) {
		case "x":
			p.X, err = d.Int64()
		case "y":
			p.Y, err = d.Int64()
		default:
			err = d.Skip()
		}
		return err
	})
}

func TestDecodeJSONBytes(t *testing.T) {
	var p point
	if err := DecodeJSONBytes([]byte(" {\"x\":1,\"y\":-2}\n\t"), &p); err != nil || p.X != 1 || p.Y != -2 {
		t.Fatalf("%+v %v", p, err)
	}
	for _, in := range []string{`{"x":1} {}`, `{"x":1}x`, `{"x":1`, ``, `{"x":"1"}`} {
		if err := DecodeJSONBytes([]byte(in), &point{}); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestDecodeResultUsesDecodeJSON(t *testing.T) {
	var p point
	if err := decodeResult([]byte(`{"x":3}`), 200, false, &p); err != nil || p.X != 3 || p.calls != 1 {
		t.Fatalf("%+v %v", p, err)
	}
	if err := decodeResult([]byte(`{"x":3}]`), 200, false, &point{}); err == nil {
		t.Fatal("trailing data accepted")
	}
	// Other Unmarshalers still go through json.Unmarshal, which validates
	// the whole body first.
	var raw json.RawMessage
	if err := decodeResult([]byte(`{"x":`), 200, false, &raw); err == nil {
		t.Fatal("invalid JSON accepted into a RawMessage")
	}
}

func TestDecodeJSONValue(t *testing.T) {
	var p point
	d := jx.DecodeStr(`{"x":5}`)
	if err := DecodeJSONValue(d, &p); err != nil || p.X != 5 || p.calls != 1 {
		t.Fatalf("%+v %v", p, err)
	}
	var f float32
	if err := DecodeJSONValue(jx.DecodeStr(`1.5`), &f); err != nil || f != 1.5 {
		t.Fatalf("%v %v", f, err)
	}
	var b []byte
	if err := DecodeJSONValue(jx.DecodeStr(`"aGk="`), &b); err != nil || string(b) != "hi" {
		t.Fatalf("%q %v", b, err)
	}
}

func TestDecodeJSONStringAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`"plain"`, `""`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u2028"`, `"\ud83d\ude00"`,
		`"\ud800"`, `"\ud800\u0041"`, "\"bad \xff\xfe utf8\"", "\"\xed\xa0\x80\"",
		`"ctl` + "\x01" + `"`, `"\x"`, `"open`, `5`, `null`, `[]`, `{}`, `true`,
	} {
		got, gotErr := DecodeJSONString(jx.DecodeStr(in))
		var want string
		wantErr := json.Unmarshal([]byte(in), &want)
		if in == `null` {
			// The generated code checks for null before reading a string.
			if gotErr == nil {
				t.Errorf("null read as the string %q", got)
			}
			continue
		}
		if (gotErr != nil) != (wantErr != nil) || got != want {
			t.Errorf("%q: got %q, %v; encoding/json %q, %v", in, got, gotErr, want, wantErr)
		}
	}
}

func TestDecodeJSONInt32(t *testing.T) {
	for _, in := range []string{"0", "-0", "2147483647", "-2147483648", "2147483648", "-2147483649",
		"9999999999", "-9999999999", "4294967296", "1.0", "1e3", "1.5", "01", "-", "99999999999999999999"} {
		got, err := DecodeJSONInt32(jx.DecodeStr(in))
		var want int32
		werr := json.Unmarshal([]byte(in), &want)
		if in == "1.0" || in == "1e3" {
			// Integers spelled with a fraction or an exponent are integers
			// (encoding/json refuses them).
			want, werr = map[string]int32{"1.0": 1, "1e3": 1000}[in], nil
		}
		if (err != nil) != (werr != nil) || (err == nil && got != want) {
			t.Errorf("%s: got %d, %v; want %d, %v", in, got, err, want, werr)
		}
	}
}

func TestDecodeJSONRawCopies(t *testing.T) {
	in := []byte(`{"a": [1, 2]} `)
	raw, err := DecodeJSONRaw(jx.DecodeBytes(in))
	if err != nil {
		t.Fatal(err)
	}
	in[2] = 'X'
	if string(raw) != `{"a": [1, 2]}` {
		t.Fatalf("raw %s aliases its input", raw)
	}
	if raw, err := DecodeJSONRaw(jx.DecodeStr(`null`)); err != nil || string(raw) != "null" {
		t.Fatalf("null: %s %v", raw, err)
	}
}

func TestDecodeJSONTime(t *testing.T) {
	var tm time.Time
	if err := DecodeJSONTime(jx.DecodeStr(`"2024-01-02T03:04:05.123+02:00"`), &tm); err != nil || tm.UTC().Hour() != 1 || tm.Nanosecond() != 123000000 {
		t.Fatalf("%v %v", tm, err)
	}
	before := tm
	if err := DecodeJSONTime(jx.DecodeStr(`null`), &tm); err != nil || !tm.Equal(before) {
		t.Fatalf("null changed the time: %v %v", tm, err)
	}
	for _, in := range []string{`"2024-13-01T00:00:00Z"`, `"yesterday"`, `5`, `"\u0032024-13-01T00:00:00Z"`} {
		if err := DecodeJSONTime(jx.DecodeStr(in), &tm); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}

func TestJSONKey(t *testing.T) {
	var want map[string]int
	in := "{\"ok\":1,\"\xffa\xfe\":2}"
	if err := json.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	err := jx.DecodeStr(in).ObjBytes(func(d *jx.Decoder, key []byte) error {
		n, err := d.Int()
		got[JSONKey(key)] = n
		return err
	})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v %v, want %v", got, err, want)
	}
}

func TestJSONSliceAt(t *testing.T) {
	s := JSONSliceAt[int](nil, 0)
	if len(s) != 1 {
		t.Fatalf("%v", s)
	}
	s = []int{7, 8, 9}[:1]
	if got := JSONSliceAt(s, 0); len(got) != 1 || got[0] != 7 {
		t.Fatalf("existing element: %v", got)
	}
	// Within capacity the slice is extended over what is there, as
	// encoding/json's reflect.Value.SetLen does.
	if got := JSONSliceAt(s, 1); len(got) != 2 || got[1] != 8 {
		t.Fatalf("within capacity: %v", got)
	}
}

func TestJSONMemberError(t *testing.T) {
	base := errors.New("boom")
	err := JSONMemberError("Event", "version", base)
	if !errors.Is(err, base) || err.Error() != "Event.version: boom" {
		t.Fatalf("%v", err)
	}
}

// FuzzDecodeJSONString compares DecodeJSONString with encoding/json on
// arbitrary input.
func FuzzDecodeJSONString(f *testing.F) {
	for _, s := range []string{`"a"`, `"\u00e9"`, `"\ud800"`, "\"\xff\"", `"\n"`, `5`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := jx.DecodeBytes(data)
		if d.Next() == jx.Null {
			return
		}
		got, err := DecodeJSONString(d)
		if err == nil {
			err = DecodeJSONEnd(d)
		}
		var want string
		werr := json.Unmarshal(data, &want)
		if (err != nil) != (werr != nil) || err == nil && got != want {
			t.Fatalf("%q: got %q, %v; encoding/json %q, %v", data, got, err, want, werr)
		}
	})
}

type label string

func TestDecodeJSONScalarsInto(t *testing.T) {
	var l label = "kept"
	if err := DecodeJSONStringTo(jx.DecodeStr(`null`), &l); err != nil || l != "kept" {
		t.Fatalf("null: %q %v", l, err)
	}
	if err := DecodeJSONStringTo(jx.DecodeStr(`"new"`), &l); err != nil || l != "new" {
		t.Fatalf("string: %q %v", l, err)
	}
	var n int64
	if err := DecodeJSONInt64To(jx.DecodeStr(`-12`), &n); err != nil || n != -12 {
		t.Fatalf("int64: %d %v", n, err)
	}
	var small int32
	if err := DecodeJSONInt32To(jx.DecodeStr(`2147483648`), &small); err == nil {
		t.Fatal("int32 overflow accepted")
	}
	var f float64
	if err := DecodeJSONFloat64To(jx.DecodeStr(`1e400`), &f); err == nil {
		t.Fatal("float64 overflow accepted")
	}
	var b bool
	if err := DecodeJSONBoolTo(jx.DecodeStr(`true`), &b); err != nil || !b {
		t.Fatalf("bool: %v %v", b, err)
	}
	var raw json.RawMessage
	if err := DecodeJSONRawTo(jx.DecodeStr(`null`), &raw); err != nil || string(raw) != "null" {
		t.Fatalf("raw: %s %v", raw, err)
	}
	if err := DecodeJSONBoolTo(jx.DecodeStr(`"true"`), &b); err == nil {
		t.Fatal("a string decoded as a bool")
	}
}

func TestDecodeJSONOptAndNullable(t *testing.T) {
	o := Some[int64](5)
	if err := DecodeJSONOpt(jx.DecodeStr(`null`), &o, DecodeJSONInt64To[int64]); err != nil || o.Set || o.Value != 0 {
		t.Fatalf("null Opt: %+v %v", o, err)
	}
	if err := DecodeJSONOpt(jx.DecodeStr(`7`), &o, DecodeJSONInt64To[int64]); err != nil || !o.Set || o.Value != 7 {
		t.Fatalf("Opt: %+v %v", o, err)
	}
	var n Nullable[string]
	if err := DecodeJSONNullable(jx.DecodeStr(`null`), &n, DecodeJSONStringTo[string]); err != nil || !n.IsNull() {
		t.Fatalf("null Nullable: %+v %v", n, err)
	}
	if err := DecodeJSONNullable(jx.DecodeStr(`"v"`), &n, DecodeJSONStringTo[string]); err != nil || n.IsNull() || n.Value != "v" {
		t.Fatalf("Nullable: %+v %v", n, err)
	}
	var tm Opt[time.Time]
	if err := DecodeJSONOpt(jx.DecodeStr(`"2024-01-02T03:04:05Z"`), &tm, DecodeJSONTime); err != nil || !tm.Set || tm.Value.Year() != 2024 {
		t.Fatalf("Opt time: %+v %v", tm, err)
	}
	// Each must agree with the type's own UnmarshalJSON.
	for _, in := range []string{`null`, `3`, `"x"`} {
		var a, b Opt[int64]
		errA := json.Unmarshal([]byte(in), &a)
		errB := DecodeJSONOpt(jx.DecodeStr(in), &b, DecodeJSONInt64To[int64])
		if (errA != nil) != (errB != nil) || a != b {
			t.Errorf("%s: UnmarshalJSON %+v %v, DecodeJSONOpt %+v %v", in, a, errA, b, errB)
		}
	}
}

func TestDecodeJSONTimeUnescapes(t *testing.T) {
	var got time.Time
	d := jx.DecodeStr(`"\u0032024-05-06T07\u003a08:09Z"`)
	if err := DecodeJSONTime(d, &got); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := DecodeJSONTime(jx.DecodeStr(`"\u0032024-13-06T07:08:09Z"`), &got); err == nil {
		t.Fatal("month 13 accepted")
	}
}

func TestDecodeJSONInt64Spellings(t *testing.T) {
	for in, want := range map[string]int64{
		`1`: 1, `-7`: -7, `1.0`: 1, `1e2`: 100, `1E+0`: 1, `250e-1`: 25, `-0.0`: 0,
		`9223372036854775807`: math.MaxInt64, `9223372036854775807.000`: math.MaxInt64,
	} {
		var got int64
		if err := DecodeJSONInt64To(jx.DecodeStr(in), &got); err != nil || got != want {
			t.Errorf("%s: got %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{`1.5`, `1e-1`, `9223372036854775808`, `9.3e18`, `1e400`, `1e99999999999`, `"1"`, `true`, `{}`} {
		var got int64
		if err := DecodeJSONInt64To(jx.DecodeStr(in), &got); err == nil {
			t.Errorf("%s accepted as %d", in, got)
		}
	}
	var small int32
	if err := DecodeJSONInt32To(jx.DecodeStr(`2147483648.0`), &small); err == nil {
		t.Error("int32 overflow accepted")
	}
}

func TestDecodeJSONFloat64Precision(t *testing.T) {
	for _, in := range []string{
		`{"a":2477567443263750000.0,"b":1}`,
		`{"a":37739318550204700.0,"b":1}`,
		`{"a":-0.008839430691856540,"b":1}`,
		`{"a":1e308,"b":1}`,
	} {
		var got float64
		d := jx.DecodeBytes([]byte(in))
		err := d.Obj(func(d *jx.Decoder, k string) error {
			if k != "a" {
				return d.Skip()
			}
			return DecodeJSONFloat64To(d, &got)
		})
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var want struct{ A float64 }
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if got != want.A {
			t.Errorf("%s: got %v, want %v", in, got, want.A)
		}
	}
	for _, bad := range []string{`"1.5"`, `true`, `[]`, `1e999`} {
		var f float64
		if err := DecodeJSONScalarBytes([]byte(bad), &f, DecodeJSONFloat64To[float64]); err == nil {
			t.Errorf("%s decoded as %v", bad, f)
		}
	}
}

func TestBase64RefusesArrays(t *testing.T) {
	var b []byte
	if err := UnmarshalJSON([]byte(` [1,2] `), &b); err == nil {
		t.Fatalf("UnmarshalJSON took an array for []byte: %v", b)
	}
	var o Opt[[]byte]
	if err := json.Unmarshal([]byte(`[]`), &o); err == nil {
		t.Fatalf("Opt[[]byte] took an array: %v", o)
	}
	d := jx.DecodeStr(`[]`)
	if err := DecodeJSONValue(d, &b); err == nil {
		t.Fatalf("DecodeJSONValue took an array for []byte: %v", b)
	}
	if err := UnmarshalJSON([]byte(`"AQI="`), &b); err != nil || string(b) != "\x01\x02" {
		t.Fatalf("base64: %v, %v", b, err)
	}
}
