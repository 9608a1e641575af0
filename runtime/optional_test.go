package runtime

import (
	"encoding/json"
	"testing"
	"time"
)

func TestOptAndNullable(t *testing.T) {
	type doc struct {
		A Opt[int]         `json:"a,omitzero"`
		B Nullable[string] `json:"b,omitzero"`
	}
	cases := []struct {
		v    doc
		json string
	}{
		{doc{}, `{}`},
		{doc{A: Some(0), B: NullOf[string]()}, `{"a":0,"b":null}`},
		{doc{A: Some(7), B: ValueOf("x")}, `{"a":7,"b":"x"}`},
	}
	for _, tc := range cases {
		b, err := json.Marshal(tc.v)
		if err != nil || string(b) != tc.json {
			t.Errorf("Marshal(%+v) = %s %v, want %s", tc.v, b, err, tc.json)
		}
		var back doc
		if err := json.Unmarshal(b, &back); err != nil || back != tc.v {
			t.Errorf("Unmarshal(%s) = %+v %v, want %+v", b, back, err, tc.v)
		}
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"a":null}`), &d); err != nil || d.A.Set {
		t.Errorf("null into Opt: %+v %v", d, err)
	}
	if v, ok := d.B.Get(); ok || v != "" || d.B.IsNull() {
		t.Errorf("absent Nullable: %+v", d.B)
	}
	if Some(3).Or(9) != 3 || (Opt[int]{}).Or(9) != 9 {
		t.Error("Or")
	}
}

func TestNullableAndOptDecodeAsMembers(t *testing.T) {
	var n Nullable[int64]
	if err := json.Unmarshal([]byte(`22E+0`), &n); err != nil || n.Value != 22 || !n.Set || n.Null {
		t.Fatalf("Nullable[int64] from 22E+0: %+v, %v", n, err)
	}
	var o Opt[int32]
	if err := json.Unmarshal([]byte(`1.0`), &o); err != nil || o.Value != 1 || !o.Set {
		t.Fatalf("Opt[int32] from 1.0: %+v, %v", o, err)
	}
	if err := json.Unmarshal([]byte(`1.5`), &o); err == nil {
		t.Fatalf("Opt[int32] accepted 1.5: %+v", o)
	}
	var ts Nullable[time.Time]
	if err := json.Unmarshal([]byte(`"2026-12-01T10:00:00\u005a"`), &ts); err != nil || ts.Value.Hour() != 10 {
		t.Fatalf("Nullable[time.Time] with an escape: %+v, %v", ts, err)
	}
	var tt time.Time
	if err := UnmarshalJSON([]byte(`"2026-12-01T10:00:00\u005a"`), &tt); err != nil || tt.Hour() != 10 {
		t.Fatalf("UnmarshalJSON into time.Time with an escape: %v, %v", tt, err)
	}
}
