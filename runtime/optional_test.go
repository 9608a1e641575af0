package runtime

import (
	"encoding/json"
	"testing"
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
