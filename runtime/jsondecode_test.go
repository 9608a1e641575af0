package runtime

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/go-faster/jx"
)

// point decodes itself with a DecodeJSON that counts its calls.
type point struct {
	X, Y  int64
	calls int
}

func (p *point) DecodeJSON(d *JSONReader) error {
	p.calls++
	if d.Next() == jx.Null {
		return d.Null()
	}
	it, err := d.ObjIter()
	if err != nil {
		return err
	}
	for it.Next() {
		var err error
		switch string(it.Key()) {
		case "x":
			p.X, err = DecodeJSONInt64(d)
		case "y":
			p.Y, err = DecodeJSONInt64(d)
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
	return it.Err()
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
	d := readerOf(`{"x":5}`)
	if err := DecodeJSONValue(d, &p); err != nil || p.X != 5 || p.calls != 1 {
		t.Fatalf("%+v %v", p, err)
	}
	var f float32
	if err := DecodeJSONValue(readerOf(`1.5`), &f); err != nil || f != 1.5 {
		t.Fatalf("%v %v", f, err)
	}
	var b []byte
	if err := DecodeJSONValue(readerOf(`"aGk="`), &b); err != nil || string(b) != "hi" {
		t.Fatalf("%q %v", b, err)
	}
}

func TestDecodeJSONStringAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`"plain"`, `""`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u2028"`, `"\ud83d\ude00"`,
		`"\ud800"`, `"\ud800\u0041"`, "\"bad \xff\xfe utf8\"", "\"\xed\xa0\x80\"",
		`"ctl` + "\x01" + `"`, `"\x"`, `"open`, `5`, `null`, `[]`, `{}`, `true`,
	} {
		got, gotErr := DecodeJSONString(readerOf(in))
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
		got, err := DecodeJSONInt32(readerOf(in))
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
	raw, err := DecodeJSONRaw(readerOfBytes(in))
	if err != nil {
		t.Fatal(err)
	}
	in[2] = 'X'
	if string(raw) != `{"a": [1, 2]}` {
		t.Fatalf("raw %s aliases its input", raw)
	}
	if raw, err := DecodeJSONRaw(readerOf(`null`)); err != nil || string(raw) != "null" {
		t.Fatalf("null: %s %v", raw, err)
	}
}

func TestDecodeJSONTime(t *testing.T) {
	var tm time.Time
	if err := DecodeJSONTime(readerOf(`"2024-01-02T03:04:05.123+02:00"`), &tm); err != nil || tm.UTC().Hour() != 1 || tm.Nanosecond() != 123000000 {
		t.Fatalf("%v %v", tm, err)
	}
	before := tm
	if err := DecodeJSONTime(readerOf(`null`), &tm); err != nil || !tm.Equal(before) {
		t.Fatalf("null changed the time: %v %v", tm, err)
	}
	for _, in := range []string{`"2024-13-01T00:00:00Z"`, `"yesterday"`, `5`, `"\u0032024-13-01T00:00:00Z"`} {
		if err := DecodeJSONTime(readerOf(in), &tm); err == nil {
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
		d := readerOfBytes(data)
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
	if err := DecodeJSONStringTo(readerOf(`null`), &l); err != nil || l != "kept" {
		t.Fatalf("null: %q %v", l, err)
	}
	if err := DecodeJSONStringTo(readerOf(`"new"`), &l); err != nil || l != "new" {
		t.Fatalf("string: %q %v", l, err)
	}
	var n int64
	if err := DecodeJSONInt64To(readerOf(`-12`), &n); err != nil || n != -12 {
		t.Fatalf("int64: %d %v", n, err)
	}
	var small int32
	if err := DecodeJSONInt32To(readerOf(`2147483648`), &small); err == nil {
		t.Fatal("int32 overflow accepted")
	}
	var f float64
	if err := DecodeJSONFloat64To(readerOf(`1e400`), &f); err == nil {
		t.Fatal("float64 overflow accepted")
	}
	var b bool
	if err := DecodeJSONBoolTo(readerOf(`true`), &b); err != nil || !b {
		t.Fatalf("bool: %v %v", b, err)
	}
	var raw json.RawMessage
	if err := DecodeJSONRawTo(readerOf(`null`), &raw); err != nil || string(raw) != "null" {
		t.Fatalf("raw: %s %v", raw, err)
	}
	if err := DecodeJSONBoolTo(readerOf(`"true"`), &b); err == nil {
		t.Fatal("a string decoded as a bool")
	}
}

func TestDecodeJSONOptAndNullable(t *testing.T) {
	o := Some[int64](5)
	if err := DecodeJSONOpt(readerOf(`null`), &o, DecodeJSONInt64To[int64]); err != nil || o.Set || o.Value != 0 {
		t.Fatalf("null Opt: %+v %v", o, err)
	}
	if err := DecodeJSONOpt(readerOf(`7`), &o, DecodeJSONInt64To[int64]); err != nil || !o.Set || o.Value != 7 {
		t.Fatalf("Opt: %+v %v", o, err)
	}
	var n Nullable[string]
	if err := DecodeJSONNullable(readerOf(`null`), &n, DecodeJSONStringTo[string]); err != nil || !n.IsNull() {
		t.Fatalf("null Nullable: %+v %v", n, err)
	}
	if err := DecodeJSONNullable(readerOf(`"v"`), &n, DecodeJSONStringTo[string]); err != nil || n.IsNull() || n.Value != "v" {
		t.Fatalf("Nullable: %+v %v", n, err)
	}
	var tm Opt[time.Time]
	if err := DecodeJSONOpt(readerOf(`"2024-01-02T03:04:05Z"`), &tm, DecodeJSONTime); err != nil || !tm.Set || tm.Value.Year() != 2024 {
		t.Fatalf("Opt time: %+v %v", tm, err)
	}
	// Each must agree with the type's own UnmarshalJSON.
	for _, in := range []string{`null`, `3`, `"x"`} {
		var a, b Opt[int64]
		errA := json.Unmarshal([]byte(in), &a)
		errB := DecodeJSONOpt(readerOf(in), &b, DecodeJSONInt64To[int64])
		if (errA != nil) != (errB != nil) || a != b {
			t.Errorf("%s: UnmarshalJSON %+v %v, DecodeJSONOpt %+v %v", in, a, errA, b, errB)
		}
	}
}

func TestDecodeJSONTimeUnescapes(t *testing.T) {
	var got time.Time
	d := readerOf(`"\u0032024-05-06T07\u003a08:09Z"`)
	if err := DecodeJSONTime(d, &got); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if err := DecodeJSONTime(readerOf(`"\u0032024-13-06T07:08:09Z"`), &got); err == nil {
		t.Fatal("month 13 accepted")
	}
}

func TestDecodeJSONInt64Spellings(t *testing.T) {
	for in, want := range map[string]int64{
		`1`: 1, `-7`: -7, `1.0`: 1, `1e2`: 100, `1E+0`: 1, `250e-1`: 25, `-0.0`: 0,
		`9223372036854775807`: math.MaxInt64, `9223372036854775807.000`: math.MaxInt64,
	} {
		var got int64
		if err := DecodeJSONInt64To(readerOf(in), &got); err != nil || got != want {
			t.Errorf("%s: got %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{`1.5`, `1e-1`, `9223372036854775808`, `9.3e18`, `1e400`, `1e99999999999`, `"1"`, `true`, `{}`} {
		var got int64
		if err := DecodeJSONInt64To(readerOf(in), &got); err == nil {
			t.Errorf("%s accepted as %d", in, got)
		}
	}
	var small int32
	if err := DecodeJSONInt32To(readerOf(`2147483648.0`), &small); err == nil {
		t.Error("int32 overflow accepted")
	}
}

// readerOf returns a JSONReader over s.
func readerOf(s string) *JSONReader { return readerOfBytes([]byte(s)) }

// readerOfBytes returns a JSONReader over b.
func readerOfBytes(b []byte) *JSONReader {
	r := new(JSONReader)
	r.ResetBytes(b)
	return r
}

func TestParseTimeUTCAgreesWithTime(t *testing.T) {
	for _, in := range []string{
		"2026-01-01T00:00:00Z", "2026-01-01T00:00:00.1Z", "2026-01-01T00:00:00.123456789Z",
		"2024-02-29T23:59:59.5Z", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z",
		"2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567891Z", "2026-01-01t00:00:00Z",
		"2026-01-01T00:00:00z", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00,5Z", "+026-01-01T00:00:00Z",
		"2026-01-01T00:00:0xZ", "0000-01-01T00:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
	} {
		var want time.Time
		werr := want.UnmarshalJSON([]byte(`"` + in + `"`))
		got, ok := parseTimeUTC([]byte(in))
		if ok && (werr != nil || !got.Equal(want) || got.Location() != want.Location()) {
			t.Errorf("%s: fast path gave %v, UnmarshalJSON %v, %v", in, got, want, werr)
		}
		var viaReader time.Time
		err := DecodeJSONTime(readerOf(`"`+in+`"`), &viaReader)
		if (err != nil) != (werr != nil) || err == nil && (!viaReader.Equal(want) || viaReader.Location() != want.Location()) {
			t.Errorf("%s: DecodeJSONTime %v, %v; UnmarshalJSON %v, %v", in, viaReader, err, want, werr)
		}
	}
}

func TestJSONReaderStringsAndAlias(t *testing.T) {
	in := []byte(`{"a":"x","b":{"k":[1]},"c":"\u0078"}`)
	var calls int
	r := JSONReader{Alias: true, Strings: func(b []byte) string { calls++; return string(b) }}
	r.ResetBytes(in)
	var a, c string
	var b json.RawMessage
	it, err := r.ObjIter()
	for err == nil && it.Next() {
		switch string(it.Key()) {
		case "a":
			err = DecodeJSONStringTo(&r, &a)
		case "b":
			err = DecodeJSONRawTo(&r, &b)
		default:
			err = DecodeJSONStringTo(&r, &c)
		}
	}
	if err == nil {
		err = it.Err()
	}
	if err != nil || a != "x" || c != "x" || string(b) != `{"k":[1]}` {
		t.Fatalf("%q %s %q %v", a, b, c, err)
	}
	if calls != 1 {
		t.Errorf("Strings called %d times, want once (the escaped string is decoded, not looked up)", calls)
	}
	in[len(`{"a":"x","b":{"k":[`)] = '2'
	if string(b) != `{"k":[2]}` {
		t.Errorf("Alias: raw %s does not share the input", b)
	}
	if cap(b) != len(b) {
		t.Errorf("Alias: raw has capacity past its end, so an append would overwrite the input")
	}
}

func TestInterner(t *testing.T) {
	var in Interner
	a := in.String([]byte("user.created"))
	b := in.String([]byte("user.created"))
	if a != "user.created" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("a repeated short string is not kept once")
	}
	long := []byte("11111111-1111-4111-8111-111111111111")
	if x, y := in.String(long), in.String(long); x != string(long) || unsafe.StringData(x) == unsafe.StringData(y) {
		t.Fatal("a long string is kept")
	}
	// Many strings evict one another from their slots but come back
	// right.
	for i := range 3 * internSlots {
		if s := strconv.Itoa(i); in.String([]byte(s)) != s {
			t.Fatalf("%d came back as %q", i, in.String([]byte(s)))
		}
	}
	if in.String(nil) != "" {
		t.Fatal("the empty string")
	}
}

func TestJSONTag(t *testing.T) {
	for _, c := range []struct {
		in, text   string
		found, err bool
	}{
		{`{"type":"replay","x":1}`, "replay", true, false},
		{` { "type" : "replay" , "x" : [1, 2] }`, "replay", true, false},
		{`{"x":1,"type":"late"}`, "late", true, false},
		{`{"type":"\u0072eplay"}`, "replay", true, false},
		{`{"type":null}`, "", true, false},
		{`{"x":1}`, "", false, false},
		{`{"type":5}`, "", true, true},
		{`{"typ":"x"}`, "", false, false},
		{`{"types":"x"}`, "", false, false},
		{`[1]`, "", false, true},
		{`{"x":}`, "", false, true},
	} {
		text, found, err := JSONTag([]byte(c.in), "type")
		if string(text) != c.text || found != c.found || (err != nil) != c.err {
			t.Errorf("%s: %q %v %v", c.in, text, found, err)
		}
	}
}

// FuzzJSONReaderAcceptsValidJSON checks that a JSONReader reads exactly
// what encoding/json accepts as one JSON value, and that walking it with
// the iterators the generated decoders use agrees.
func FuzzJSONReaderAcceptsValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e-3,{"b":null}],"c":"\u00e9\n"}`, `[]`, `{}`, ` 0 `, `-0.1E+2`, `01`, `[1,]`, `{"a":1,}`,
		`{"a" 1}`, `"\ud800"`, "\"\xff\"", `tru`, `nul`, `[[[[]]]]`, `{"a":{"b":{}}}`, `1 2`, `"a\x01"`, `{"\u0061":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := json.Valid(data)
		r := readerOfBytes(data)
		err := r.Skip()
		if err == nil {
			err = DecodeJSONEnd(r)
		}
		if (err == nil) != want {
			t.Fatalf("%q: Skip %v, json.Valid %v", data, err, want)
		}
		r = readerOfBytes(data)
		if err := walk(r); (err == nil) != want {
			t.Fatalf("%q: walk %v, json.Valid %v", data, err, want)
		}
	})
}

// walk reads a value with the iterators and typed reads, as generated
// decoders do, then checks nothing follows.
func walk(r *JSONReader) error {
	var visit func() error
	visit = func() error {
		switch r.Next() {
		case jx.Object:
			it, err := r.ObjIter()
			if err != nil {
				return err
			}
			for it.Next() {
				JSONKey(it.Key())
				if err := visit(); err != nil {
					return err
				}
			}
			return it.Err()
		case jx.Array:
			it, err := r.ArrIter()
			if err != nil {
				return err
			}
			for it.Next() {
				if err := visit(); err != nil {
					return err
				}
			}
			return it.Err()
		case jx.String:
			_, err := DecodeJSONString(r)
			return err
		case jx.Number:
			_, err := r.Num()
			return err
		case jx.Bool:
			_, err := r.Bool()
			return err
		case jx.Null:
			return r.Null()
		}
		return r.Skip()
	}
	if err := visit(); err != nil {
		return err
	}
	return DecodeJSONEnd(r)
}

func TestDecodeJSONFloat64Precision(t *testing.T) {
	for _, in := range []string{
		`{"a":2477567443263750000.0,"b":1}`,
		`{"a":37739318550204700.0,"b":1}`,
		`{"a":-0.008839430691856540,"b":1}`,
		`{"a":1e308,"b":1}`,
	} {
		var got struct {
			A float64
		}
		if err := DecodeJSONScalarBytes([]byte(in), &got.A, func(r *JSONReader, p *float64) error {
			it, err := r.ObjIter()
			if err != nil {
				return err
			}
			for it.Next() {
				if string(it.Key()) != "a" {
					if err := r.Skip(); err != nil {
						return err
					}
					continue
				}
				if err := DecodeJSONFloat64To(r, p); err != nil {
					return err
				}
			}
			return it.Err()
		}); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var want struct{ A float64 }
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if got.A != want.A {
			t.Errorf("%s: got %v, want %v", in, got.A, want.A)
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
	if err := DecodeJSONValue(readerOf(`[]`), &b); err == nil {
		t.Fatalf("DecodeJSONValue took an array for []byte: %v", b)
	}
	if err := UnmarshalJSON([]byte(`"AQI="`), &b); err != nil || string(b) != "\x01\x02" {
		t.Fatalf("base64: %v, %v", b, err)
	}
}

func TestRawKinds(t *testing.T) {
	k := KindString | KindInteger | KindNull
	for _, ok := range []string{`"s"`, `1`, `1.0`, `1e2`, `-0`, `null`} {
		var raw json.RawMessage
		if err := UnmarshalJSONRawKinds([]byte(ok), &raw, k); err != nil || string(raw) != ok {
			t.Errorf("%s: %s, %v", ok, raw, err)
		}
	}
	for _, bad := range []string{`1.5`, `true`, `[]`, `{}`, `"s" 1`} {
		var raw json.RawMessage
		if err := UnmarshalJSONRawKinds([]byte(bad), &raw, k); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if k.String() != "null|integer|string" {
		t.Errorf("String() = %q", k.String())
	}
}
