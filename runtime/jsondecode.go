package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

// This file holds what generated single-pass JSON decoders share. They read
// with a JSONReader (jsonreader.go), token by token, with jx's types: each
// generated type walks its object once, decoding members by their Go type,
// instead of letting encoding/json scan the input, decode it by reflection,
// and scan it again for the members the schema does not describe.
//
// The decoders keep encoding/json's results: a JSON null leaves a scalar or
// a struct unchanged and sets a slice, map or pointer to nil; a duplicate
// member is decoded again over the first (the last one wins); strings with
// invalid UTF-8 get U+FFFD as encoding/json gives them. Unlike encoding/json
// they match member names exactly, not case-insensitively: a member whose
// name differs from the schema's in case only is an unknown member.

// JSONDecoder is implemented by generated types that decode themselves from
// a JSONReader in one pass. DecodeJSON reads exactly one JSON value from r;
// a JSON null leaves the value unchanged. What it keeps is copied, so the
// input may be reused afterwards, unless r says otherwise (Alias).
type JSONDecoder interface {
	DecodeJSON(r *JSONReader) error
}

// DecodeBytes decodes data, one JSON value and nothing else but white
// space, into v with v's DecodeJSON, reading with r's settings.
func (r *JSONReader) DecodeBytes(data []byte, v JSONDecoder) error {
	r.ResetBytes(data)
	err := v.DecodeJSON(r)
	if err == nil {
		err = DecodeJSONEnd(r)
	}
	r.ResetBytes(nil)
	return err
}

// Unmarshal decodes data, one JSON value, into v, which must be a pointer:
// with r's settings when v implements JSONDecoder (as DecodeBytes does),
// with json.Unmarshal otherwise. A nil r decodes with the default
// settings.
func (r *JSONReader) Unmarshal(data []byte, v any) error {
	dv, ok := v.(JSONDecoder)
	switch {
	case !ok:
		return json.Unmarshal(data, v)
	case r == nil:
		return DecodeJSONBytes(data, dv)
	}
	return r.DecodeBytes(data, dv)
}

// readers holds JSONReaders with the default settings, for the functions
// that decode one value and have no reader of their own.
var readers = sync.Pool{New: func() any { return new(JSONReader) }}

// DecodeJSONBytes decodes data into v with v's DecodeJSON and reports an
// error when anything but white space follows the value. Generated
// UnmarshalJSON methods call it.
func DecodeJSONBytes(data []byte, v JSONDecoder) error {
	r := readers.Get().(*JSONReader)
	err := r.DecodeBytes(data, v)
	readers.Put(r)
	return err
}

// UnmarshalJSON decodes data into v, which must be a pointer: in one pass
// with DecodeJSONBytes when v implements JSONDecoder, and with
// json.Unmarshal otherwise.
//
// Values of a few standard types decode as generated decoders decode a
// member of that type, which encoding/json does not: an int64 or int32
// accepts any spelling of an integer (1.0, 1e2), and a time.Time accepts a
// string with escapes, and a []byte only a base64 string.
func UnmarshalJSON(data []byte, v any) error {
	switch p := v.(type) {
	case JSONDecoder:
		return DecodeJSONBytes(data, p)
	case *int64:
		return DecodeJSONScalarBytes(data, p, DecodeJSONInt64To[int64])
	case *int32:
		return DecodeJSONScalarBytes(data, p, DecodeJSONInt32To[int32])
	case *time.Time:
		return DecodeJSONScalarBytes(data, p, DecodeJSONTime)
	case *[]byte:
		return unmarshalBase64(bytes.TrimSpace(data), p)
	}
	return json.Unmarshal(data, v)
}

// DecodeJSONScalarBytes decodes data, one JSON value, into *p with dec (one
// of the DecodeJSON...To functions), as the generated decoders decode a
// member of that type: union variants and named scalar types use it, so that
// a value decodes the same wherever it stands.
func DecodeJSONScalarBytes[T any](data []byte, p *T, dec func(*JSONReader, *T) error) error {
	r := readers.Get().(*JSONReader)
	r.ResetBytes(data)
	err := dec(r, p)
	if err == nil {
		err = DecodeJSONEnd(r)
	}
	r.ResetBytes(nil)
	readers.Put(r)
	return err
}

// DecodeJSONEnd reports an error unless only white space is left in d.
func DecodeJSONEnd(d *JSONReader) error {
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.errorf("data after the JSON value")
	}
	return nil
}

// DecodeJSONValue decodes the next value of d into v, which must be a
// pointer: with v's DecodeJSON when it has one, and with encoding/json
// otherwise. Generated decoders use it for types they cannot decode member by
// member (types of other packages, base64 bytes, float32).
func DecodeJSONValue(d *JSONReader, v any) error {
	if dv, ok := v.(JSONDecoder); ok {
		return dv.DecodeJSON(d)
	}
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	if _, ok := v.(*[]byte); ok {
		return unmarshalBase64(raw, v)
	}
	return json.Unmarshal(raw, v)
}

// unmarshalBase64 decodes a base64 string (or null) into v, a *[]byte.
// encoding/json alone would also take an array of numbers for a []byte,
// which a schema's format byte does not allow.
func unmarshalBase64(raw []byte, v any) error {
	if k := jx.Raw(raw).Type(); k != jx.String && k != jx.Null {
		return fmt.Errorf("want a base64 string, got %s", k)
	}
	return json.Unmarshal(raw, v)
}

// DecodeJSONString decodes a JSON string, as encoding/json does: escapes
// resolved, invalid UTF-8 replaced by U+FFFD. Any other JSON value is an
// error.
func DecodeJSONString(d *JSONReader) (string, error) {
	d.skipSpace()
	raw, plain, err := d.str()
	if err != nil {
		return "", err
	}
	body := raw[1 : len(raw)-1]
	if plain || bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		if d.Strings != nil {
			return d.Strings(body), nil
		}
		return string(body), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// DecodeJSONInt32 decodes a JSON integer that fits in an int32. (jx's own
// Int32 lets some ten-digit values wrap around.)
func DecodeJSONInt32(d *JSONReader) (int32, error) {
	n, err := DecodeJSONInt64(d)
	if err != nil {
		return 0, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%d overflows int32", n)
	}
	return int32(n), nil
}

// DecodeJSONRaw returns a copy of the next JSON value of d, null included,
// or the value itself, in the input, when d.Alias is set.
func DecodeJSONRaw(d *JSONReader) (json.RawMessage, error) {
	raw, err := d.Raw()
	if err != nil {
		return nil, err
	}
	if d.Alias {
		return json.RawMessage(raw[:len(raw):len(raw)]), nil
	}
	return bytes.Clone(raw), nil
}

// DecodeJSONTime decodes an RFC 3339 time as encoding/json does; a JSON null
// leaves t unchanged.
func DecodeJSONTime(d *JSONReader, t *time.Time) error {
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	if len(raw) > 2 && raw[0] == '"' {
		if v, ok := parseTimeUTC(raw[1 : len(raw)-1]); ok {
			*t = v
			return nil
		}
	}
	if bytes.IndexByte(raw, '\\') >= 0 {
		// A string with escapes (\u0031 for '1', say) is still a time
		// once unescaped; time.Time reads only the plain spelling.
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		if raw, err = json.Marshal(s); err != nil {
			return err
		}
	}
	return t.UnmarshalJSON(raw)
}

// parseTimeUTC parses the most common spelling of a time in JSON,
// 2006-01-02T15:04:05Z with an optional fraction of one to nine digits, to
// the time time.Time's UnmarshalJSON gives it, without its general parser.
// It returns false for any other spelling, and for a date or time out of
// range, which the caller leaves to UnmarshalJSON.
func parseTimeUTC(b []byte) (time.Time, bool) {
	n := len(b)
	if n < 20 || n > 30 || b[n-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) int {
		v := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(b[0:4]), num(b[5:7]), num(b[8:10])
	hour, minute, sec := num(b[11:13]), num(b[14:16]), num(b[17:19])
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if n > 20 {
		frac := b[20 : n-1]
		if b[19] != '.' || len(frac) == 0 {
			return time.Time{}, false
		}
		if nsec = num(frac); nsec < 0 {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			nsec *= 10
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// daysIn returns the number of days in month of year.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// DecodeJSONStringTo decodes a JSON string into *p; a null leaves *p
// unchanged. Generated decoders use the DecodeJSON...To functions for
// members of scalar types.
func DecodeJSONStringTo[T ~string](d *JSONReader, p *T) error {
	if d.Next() == jx.Null {
		return d.Null()
	}
	s, err := DecodeJSONString(d)
	if err != nil {
		return err
	}
	*p = T(s)
	return nil
}

// DecodeJSONInt64To decodes a JSON integer into *p; a null leaves *p
// unchanged.
func DecodeJSONInt64To[T ~int64](d *JSONReader, p *T) error {
	switch d.Next() {
	case jx.Null:
		return d.Null()
	case jx.Number:
	default:
		return d.errorf("want an integer")
	}
	n, err := decodeJSONInt64(d)
	if err != nil {
		return err
	}
	*p = T(n)
	return nil
}

// DecodeJSONInt64 decodes a JSON number that is an integer within the range
// of int64, however it is spelled: 1.0, 1e2 and 1E+0 are the integers 1,
// 100 and 1 (JSON Schema's integer is a value, not a spelling). A number
// with a fraction, or out of range, is refused.
func DecodeJSONInt64(d *JSONReader) (int64, error) {
	if d.Next() != jx.Number {
		return 0, d.errorf("want an integer")
	}
	return decodeJSONInt64(d)
}

// decodeJSONInt64 is DecodeJSONInt64 once the next value is known to be
// a number.
func decodeJSONInt64(d *JSONReader) (int64, error) {
	num, err := d.Num()
	if err != nil {
		return 0, err
	}
	if n, ok := plainInt64(num); ok {
		return n, nil
	}
	return integral(num)
}

// plainInt64 parses num when it is written as a plain integer (digits, an
// optional minus) within int64, the common case, without a second decoder.
func plainInt64(num jx.Num) (int64, bool) {
	b := []byte(num)
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u-1) - 1, true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

// integral returns the value of num, a JSON number with a fraction or an
// exponent, when it is an integer within int64.
func integral(num jx.Num) (int64, error) {
	text := string(num)
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		// Bound the exponent before big.Rat expands it.
		if exp, err := strconv.Atoi(strings.TrimPrefix(text[i+1:], "+")); err != nil || exp > 40 || exp < -40 {
			return 0, fmt.Errorf("%s is out of the range of int64", text)
		}
	}
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return 0, fmt.Errorf("%s is not a number", text)
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("%s is not an integer", text)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("%s is out of the range of int64", text)
	}
	return r.Num().Int64(), nil
}

// DecodeJSONInt32To decodes a JSON integer that fits in an int32 into *p; a
// null leaves *p unchanged.
func DecodeJSONInt32To[T ~int32](d *JSONReader, p *T) error {
	if d.Next() == jx.Null {
		return d.Null()
	}
	n, err := DecodeJSONInt32(d)
	if err != nil {
		return err
	}
	*p = T(n)
	return nil
}

// DecodeJSONFloat64To decodes a JSON number into *p; a null leaves *p
// unchanged.
func DecodeJSONFloat64To[T ~float64](d *JSONReader, p *T) error {
	if d.Next() == jx.Null {
		return d.Null()
	}
	f, err := d.Float64()
	if err != nil {
		return err
	}
	*p = T(f)
	return nil
}

// DecodeJSONBoolTo decodes a JSON boolean into *p; a null leaves *p
// unchanged.
func DecodeJSONBoolTo[T ~bool](d *JSONReader, p *T) error {
	if d.Next() == jx.Null {
		return d.Null()
	}
	b, err := d.Bool()
	if err != nil {
		return err
	}
	*p = T(b)
	return nil
}

// DecodeJSONRawTo stores a copy of the next JSON value, null included, in
// *p.
func DecodeJSONRawTo[T ~[]byte](d *JSONReader, p *T) error {
	raw, err := DecodeJSONRaw(d)
	if err != nil {
		return err
	}
	*p = T(raw)
	return nil
}

// DecodeJSONOpt decodes an optional value into *o with dec; a null makes *o
// absent, as Opt's UnmarshalJSON does.
func DecodeJSONOpt[T any](d *JSONReader, o *Opt[T], dec func(*JSONReader, *T) error) error {
	if d.Next() == jx.Null {
		*o = Opt[T]{}
		return d.Null()
	}
	if err := dec(d, &o.Value); err != nil {
		return err
	}
	o.Set = true
	return nil
}

// DecodeJSONPtr decodes a value into **p with dec, allocating *p when it is
// nil; a null sets *p to nil, as encoding/json does for a pointer.
func DecodeJSONPtr[T any](d *JSONReader, p **T, dec func(*JSONReader, *T) error) error {
	if d.Next() == jx.Null {
		*p = nil
		return d.Null()
	}
	if *p == nil {
		*p = new(T)
	}
	return dec(d, *p)
}

// DecodeJSONNullable decodes a value or null into *n with dec, as
// Nullable's UnmarshalJSON does.
func DecodeJSONNullable[T any](d *JSONReader, n *Nullable[T], dec func(*JSONReader, *T) error) error {
	if d.Next() == jx.Null {
		*n = Nullable[T]{Set: true, Null: true}
		return d.Null()
	}
	if err := dec(d, &n.Value); err != nil {
		return err
	}
	n.Set, n.Null = true, false
	return nil
}

// JSONKey returns a member name decoded by jx as the string encoding/json
// gives it: each byte that is not valid UTF-8 becomes U+FFFD.
func JSONKey(key []byte) string {
	if utf8.Valid(key) {
		return string(key)
	}
	out := make([]byte, 0, len(key)+8)
	for len(key) > 0 {
		r, n := utf8.DecodeRune(key)
		out = utf8.AppendRune(out, r)
		key = key[n:]
	}
	return string(out)
}

// JSONSliceAt returns s with an element at index i (i <= len(s)) to decode
// into, the way encoding/json decodes arrays: an element already there is
// decoded over, the slice grows by one otherwise.
func JSONSliceAt[T any](s []T, i int) []T {
	switch {
	case i < len(s):
		return s
	case i < cap(s):
		return s[:i+1]
	}
	// Double the capacity rather than grow it by a quarter, as append
	// does past 256 elements: an array decoded element by element is
	// then copied about once in all, not several times.
	ns := make([]T, i+1, max(8, 2*cap(s)))
	copy(ns, s[:i])
	return ns
}

// JSONMemberError wraps err, the failure to decode member of a typ, with
// both names.
func JSONMemberError(typ, member string, err error) error {
	return fmt.Errorf("%s.%s: %w", typ, member, err)
}

// MissingMemberError reports a JSON object that lacks a member its schema
// requires: a server response that breaks its contract, or a value that is
// not of the type it was decoded into (a oneOf variant tried and refused).
type MissingMemberError struct {
	// Type is the Go type being decoded.
	Type string
	// Member is the first required member that is missing.
	Member string
}

// Error names the type and the member.
func (e *MissingMemberError) Error() string {
	return fmt.Sprintf("%s: required member %q is missing", e.Type, e.Member)
}

// JSONTypeError wraps err, an error decoding a value of the type typ, with
// the type's name. Generated decoders call it on their error paths; it is
// kept out of line so that those paths stay small in them.
//
//go:noinline
func JSONTypeError(typ string, err error) error {
	return fmt.Errorf("%s: %w", typ, err)
}

// JSONMissing returns the *MissingMemberError for the first of names (the
// required members of typ, in the order of their bits in seen) whose bit is
// not set in seen.
//
//go:noinline
func JSONMissing(typ string, seen uint64, names ...string) error {
	for i, n := range names {
		if seen&(1<<i) == 0 {
			return &MissingMemberError{Type: typ, Member: n}
		}
	}
	return &MissingMemberError{Type: typ}
}

// JSONKinds is a set of JSON kinds, for raw JSON members whose schema lists
// the types it allows (type: [string, integer, "null"], or type: "null").
type JSONKinds uint8

// The JSON kinds of a JSONKinds set. KindInteger is a number without a
// fractional part, however it is spelled (1, 1.0, 1e2).
const (
	KindNull JSONKinds = 1 << iota
	KindBoolean
	KindInteger
	KindNumber
	KindString
	KindArray
	KindObject
)

// String lists the kinds of k, as a schema's type names, joined with "|".
func (k JSONKinds) String() string {
	names := []string{"null", "boolean", "integer", "number", "string", "array", "object"}
	var parts []string
	for i, n := range names {
		if k&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "|")
}

// Has reports whether raw, one JSON value, is of one of the kinds of k.
func (k JSONKinds) Has(raw jx.Raw) bool {
	switch raw.Type() {
	case jx.Null:
		return k&KindNull != 0
	case jx.Bool:
		return k&KindBoolean != 0
	case jx.String:
		return k&KindString != 0
	case jx.Array:
		return k&KindArray != 0
	case jx.Object:
		return k&KindObject != 0
	case jx.Number:
		if k&KindNumber != 0 {
			return true
		}
		if k&KindInteger == 0 {
			return false
		}
		r, ok := new(big.Rat).SetString(string(raw))
		return ok && r.IsInt()
	}
	return false
}

// DecodeJSONRawKinds decodes the next value of d into *p as raw JSON, kept as
// it was received, and refuses a value of a kind k does not hold.
func DecodeJSONRawKinds[T ~[]byte](d *JSONReader, p *T, k JSONKinds) error {
	raw, err := d.Raw()
	if err != nil {
		return err
	}
	if !k.Has(raw) {
		return fmt.Errorf("want %s, got %s", k, raw.Type())
	}
	if d.Alias {
		*p = T(raw[:len(raw):len(raw)])
	} else {
		*p = T(bytes.Clone(raw))
	}
	return nil
}

// UnmarshalJSONRawKinds is DecodeJSONRawKinds over data, which must hold one
// JSON value and nothing else; generated UnmarshalJSON methods call it.
func UnmarshalJSONRawKinds[T ~[]byte](data []byte, p *T, k JSONKinds) error {
	return DecodeJSONScalarBytes(data, p, func(d *JSONReader, p *T) error { return DecodeJSONRawKinds(d, p, k) })
}
