package runtime

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/go-faster/jx"
)

// kinds is a struct with a field of every MemberKind, alone and in each
// holder, described by kindsJSON as a generated package would.
type kinds struct {
	S      string                          `json:"s"`
	I      int64                           `json:"i"`
	I32    int32                           `json:"i32"`
	F      float64                         `json:"f"`
	B      bool                            `json:"b"`
	T      time.Time                       `json:"t"`
	R      json.RawMessage                 `json:"r"`
	Named  namedString                     `json:"named"`
	OS     Opt[string]                     `json:"os,omitzero"`
	OI     Opt[int64]                      `json:"oi,omitzero"`
	OI3    Opt[int32]                      `json:"oi32,omitzero"`
	OF     Opt[float64]                    `json:"of,omitzero"`
	OB     Opt[bool]                       `json:"ob,omitzero"`
	OT     Opt[time.Time]                  `json:"ot,omitzero"`
	ONamed Opt[namedString]                `json:"onamed,omitzero"`
	NS     Nullable[string]                `json:"ns,omitzero"`
	NI     Nullable[int64]                 `json:"ni,omitzero"`
	NT     Nullable[time.Time]             `json:"nt,omitzero"`
	SS     []string                        `json:"ss"`
	SI     []int64                         `json:"si"`
	SR     []json.RawMessage               `json:"sr"`
	SNamed []namedString                   `json:"snamed"`
	OSS    Opt[[]string]                   `json:"oss,omitzero"`
	OSF    Opt[[]float64]                  `json:"osf,omitzero"`
	MS     map[string]string               `json:"ms"`
	MB     map[string]bool                 `json:"mb"`
	OMI    Opt[map[string]int64]           `json:"omi,omitzero"`
	OMR    Opt[map[string]json.RawMessage] `json:"omr,omitzero"`
	Extra  map[string]json.RawMessage      `json:"-"`
}

type namedString string

var kindsJSON = JSONObject{
	Type: "kinds",
	Members: []JSONMember{
		{Name: "s", Offset: unsafe.Offsetof(kinds{}.S), Kind: MemberString, Bit: 1 << 0},
		{Name: "i", Offset: unsafe.Offsetof(kinds{}.I), Kind: MemberInt64, Bit: 1 << 1},
		{Name: "i32", Offset: unsafe.Offsetof(kinds{}.I32), Kind: MemberInt32},
		{Name: "f", Offset: unsafe.Offsetof(kinds{}.F), Kind: MemberFloat64},
		{Name: "b", Offset: unsafe.Offsetof(kinds{}.B), Kind: MemberBool},
		{Name: "t", Offset: unsafe.Offsetof(kinds{}.T), Kind: MemberTime},
		{Name: "r", Offset: unsafe.Offsetof(kinds{}.R), Kind: MemberRaw},
		{Name: "named", Offset: unsafe.Offsetof(kinds{}.Named), Kind: MemberString},
		{Name: "os", Offset: unsafe.Offsetof(kinds{}.OS), Kind: InOpt | MemberString},
		{Name: "oi", Offset: unsafe.Offsetof(kinds{}.OI), Kind: InOpt | MemberInt64},
		{Name: "oi32", Offset: unsafe.Offsetof(kinds{}.OI3), Kind: InOpt | MemberInt32},
		{Name: "of", Offset: unsafe.Offsetof(kinds{}.OF), Kind: InOpt | MemberFloat64},
		{Name: "ob", Offset: unsafe.Offsetof(kinds{}.OB), Kind: InOpt | MemberBool},
		{Name: "ot", Offset: unsafe.Offsetof(kinds{}.OT), Kind: InOpt | MemberTime},
		{Name: "onamed", Offset: unsafe.Offsetof(kinds{}.ONamed), Kind: InOpt | MemberString},
		{Name: "ns", Offset: unsafe.Offsetof(kinds{}.NS), Kind: InNullable | MemberString},
		{Name: "ni", Offset: unsafe.Offsetof(kinds{}.NI), Kind: InNullable | MemberInt64},
		{Name: "nt", Offset: unsafe.Offsetof(kinds{}.NT), Kind: InNullable | MemberTime},
		{Name: "ss", Offset: unsafe.Offsetof(kinds{}.SS), Kind: InSlice | MemberString},
		{Name: "si", Offset: unsafe.Offsetof(kinds{}.SI), Kind: InSlice | MemberInt64},
		{Name: "sr", Offset: unsafe.Offsetof(kinds{}.SR), Kind: InSlice | MemberRaw},
		{Name: "snamed", Offset: unsafe.Offsetof(kinds{}.SNamed), Kind: InSlice | MemberString},
		{Name: "oss", Offset: unsafe.Offsetof(kinds{}.OSS), Kind: InOptSlice | MemberString},
		{Name: "osf", Offset: unsafe.Offsetof(kinds{}.OSF), Kind: InOptSlice | MemberFloat64},
		{Name: "ms", Offset: unsafe.Offsetof(kinds{}.MS), Kind: InMap | MemberString},
		{Name: "mb", Offset: unsafe.Offsetof(kinds{}.MB), Kind: InMap | MemberBool},
		{Name: "omi", Offset: unsafe.Offsetof(kinds{}.OMI), Kind: InOptMap | MemberInt64},
		{Name: "omr", Offset: unsafe.Offsetof(kinds{}.OMR), Kind: InOptMap | MemberRaw},
	},
	Required:    []string{"s", "i"},
	Extra:       DecodeJSONExtraRaw,
	ExtraOffset: unsafe.Offsetof(kinds{}.Extra),
}

func (v *kinds) DecodeJSON(d *JSONReader) error {
	if d.Next() == jx.Null {
		return d.Null()
	}
	*v = kinds{}
	return DecodeJSONObject(d, unsafe.Pointer(v), &kindsJSON)
}

// TestDecodeJSONObjectKinds decodes every kind in every holder and checks
// the result against encoding/json's decoding of the same input into the
// same struct (whose Opt and Nullable fields decode themselves).
func TestDecodeJSONObjectKinds(t *testing.T) {
	for _, in := range []string{
		`{"s":"a","i":1,"i32":-2,"f":1.5,"b":true,"t":"2024-01-02T03:04:05.5Z","r":{"x":[1,null]},"named":"n",
		  "os":"b","oi":2,"oi32":3,"of":2.5,"ob":false,"ot":"2024-01-02T03:04:05Z","onamed":"m",
		  "ns":"c","ni":4,"nt":"2025-01-01T00:00:00Z","ss":["x","y"],"si":[1,2,3],"sr":[1,"a",null],"snamed":["p"],
		  "oss":[],"osf":[1,2.5],"ms":{"k":"v"},"mb":{"k":true},"omi":{"a":1},"omr":{"a":[]},"more":{"z":1}}`,
		`{"i":1,"s":"a","os":null,"oi":null,"ns":null,"ni":null,"nt":null,"ss":null,"oss":null,"ms":null,"omi":null,"r":null}`,
		`{"s":"first","i":1,"s":"second","ss":["a"],"ss":[]}`,
		`{"ms":{},"mb":{"a":false,"a":true},"s":"","i":0}`,
	} {
		var got kinds
		if err := DecodeJSONBytes([]byte(in), &got); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var want kinds
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: encoding/json: %v", in, err)
		}
		// encoding/json knows nothing of the additional properties.
		want.Extra = got.Extra
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", in, got, want)
		}
	}
}

// TestDecodeJSONObjectErrors checks what a table-driven decoder refuses and
// how it names the place: a missing required member (the first one, in the
// order of Required), a value of the wrong kind (Type.member), and a
// malformed object.
func TestDecodeJSONObjectErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"i":1}`, `kinds: required member "s" is missing`},
		{`{}`, `kinds: required member "s" is missing`},
		{`{"s":"a"}`, `kinds: required member "i" is missing`},
		{`{"s":1,"i":1}`, `kinds.s: `},
		{`{"s":"a","i":1,"oi":"x"}`, `kinds.oi: `},
		{`{"s":"a","i":1,"ss":[1]}`, `kinds.ss: `},
		{`{"s":"a","i":1,"more":}`, `kinds.more: `},
		{`[1]`, `kinds: `},
		{`{"s":"a","i":1`, `kinds: `},
	} {
		var v kinds
		err := DecodeJSONBytes([]byte(c.in), &v)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to start with %q", c.in, err, c.want)
		}
		var missing *MissingMemberError
		if strings.Contains(c.want, "missing") != errors.As(err, &missing) {
			t.Errorf("%s: %v is a *MissingMemberError: %v", c.in, err, !strings.Contains(c.want, "missing"))
		}
	}
	var v kinds
	if err := DecodeJSONBytes([]byte(`null`), &v); err != nil {
		t.Errorf("null: %v", err)
	}
}

// TestDecodeJSONObjectFindsMembersInAnyOrder decodes objects whose members
// come in the table's order, reversed and shuffled, with unknown members
// between them, and members whose names have the same length and differ in
// one byte only, at each place (the lookup compares words of names of 4
// to 16 bytes, and whole strings otherwise).
func TestDecodeJSONObjectFindsMembersInAnyOrder(t *testing.T) {
	type row struct {
		Vals [80]string
	}
	var names []string
	names = append(names, "")
	for _, n := range []int{3, 6, 12, 17} {
		for c := range n {
			b := []byte(strings.Repeat("k", n))
			b[c] = 'x'
			names = append(names, string(b))
		}
	}
	names = append(names, "kkkk", "kkkkkkkk", "kkkkkkkkkkkkkkkk", "kkkkkkkkkkkkkkkkk", "é")
	obj := JSONObject{Type: "row"}
	for i, n := range names {
		obj.Members = append(obj.Members, JSONMember{Name: n, Offset: unsafe.Offsetof(row{}.Vals) + uintptr(i)*unsafe.Sizeof(""), Kind: MemberString})
	}
	order := func(idx []int) string {
		var b strings.Builder
		b.WriteString("{")
		for j, i := range idx {
			if j > 0 {
				b.WriteString(",")
			}
			q, _ := json.Marshal(names[i])
			b.WriteString(string(q) + `:"v` + strconv.Itoa(i) + `","unknown":0`)
		}
		b.WriteString("}")
		return b.String()
	}
	var fwd, rev, mix []int
	for i := range names {
		fwd = append(fwd, i)
		rev = append([]int{i}, rev...)
		mix = append(mix, (i*11)%len(names))
	}
	for _, idx := range [][]int{fwd, rev, mix} {
		in := order(idx)
		var r row
		d := &JSONReader{}
		d.ResetBytes([]byte(in))
		if err := DecodeJSONObject(d, unsafe.Pointer(&r), &obj); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		for _, i := range idx {
			if want := "v" + strconv.Itoa(i); r.Vals[i] != want {
				t.Errorf("%s: member %q = %q, want %q", in, names[i], r.Vals[i], want)
			}
		}
	}
}
