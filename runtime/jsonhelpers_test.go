package runtime

import (
	"encoding/json"
	"testing"
)

func TestMarshalJSONExtra(t *testing.T) {
	for _, c := range []struct {
		known string
		extra map[string]json.RawMessage
		want  string
	}{
		{`{"a":1}`, nil, `{"a":1}`},
		{`{"a":1}`, map[string]json.RawMessage{"z": json.RawMessage(`[2]`), "b": json.RawMessage(`"x"`)}, `{"a":1,"b":"x","z":[2]}`},
		{`{}`, map[string]json.RawMessage{"k": json.RawMessage(`{"n":{}}`)}, `{"k":{"n":{}}}`},
		{` {"a":{"b":{}}} `, map[string]json.RawMessage{"c": json.RawMessage(`null`)}, `{"a":{"b":{}},"c":null}`},
	} {
		got, err := MarshalJSONExtra([]byte(c.known), c.extra)
		if err != nil || string(got) != c.want {
			t.Errorf("%s + %v: got %s, %v; want %s", c.known, c.extra, got, err, c.want)
		}
	}
	if _, err := MarshalJSONExtra([]byte(`[1]`), map[string]int{"a": 1}); err == nil {
		t.Error("extra members added to an array")
	}
	if _, err := MarshalJSONExtra([]byte(`{}`), map[string]json.RawMessage{"a": json.RawMessage(`{`)}); err == nil {
		t.Error("an invalid member value was encoded")
	}
}

func TestJSONMemberText(t *testing.T) {
	for _, c := range []struct {
		in, text   string
		found, err bool
	}{
		{`{"type":"replay","x":1}`, "replay", true, false},
		{`{"id":{"type":"inner"},"type":"outer"}`, "outer", true, false},
		{`{"t\u0079pe":"esc\u0061ped"}`, "escaped", true, false},
		{`{"id":"a","payload":[1,{"type":"no"}]}`, "", false, false},
		{`{"type":null}`, "", true, false},
		{`{"type":5}`, "", true, true},
		{`{"a":tru,"type":"x"}`, "", false, true},
		{`{"a":1`, "", false, true},
		{`[1]`, "", false, true},
		{``, "", false, true},
		{"{\"type\":\"\xff\"}", "\ufffd", true, false},
	} {
		text, found, err := JSONMemberText([]byte(c.in), "type")
		if text != c.text || found != c.found || (err != nil) != c.err {
			t.Errorf("%s: got %q %v %v", c.in, text, found, err)
		}
	}
}

func TestJSONKindAndMembers(t *testing.T) {
	if JSONKind([]byte(" \n\t{}")) != '{' || JSONKind([]byte("  ")) != 0 || JSONKind([]byte(`-1`)) != '-' {
		t.Error("JSONKind")
	}
	m, err := JSONMembers([]byte(`{"kind":"circle","r":2}`))
	if err != nil || !JSONHas(m, "r") || JSONHas(m, "side") || !JSONMemberIs(m, "kind", "circle") || JSONMemberIs(m, "r", "2") || JSONMemberIs(m, "none", "") {
		t.Errorf("members %v %v", m, err)
	}
	if _, err := JSONMembers([]byte(`[1]`)); err == nil {
		t.Error("JSONMembers of an array")
	}
}

func TestFormatJSONParam(t *testing.T) {
	type obj struct {
		A int `json:"a"`
	}
	for v, want := range map[any]string{"plain": "plain", 3: "3", true: "true", obj{A: 1}: `{"a":1}`} {
		if got := FormatJSONParam(v); got != want {
			t.Errorf("%v: got %s, want %s", v, got, want)
		}
	}
}

func TestJSONWithTag(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"kind":"dog","a":1}`, `{"kind":"dog","a":1}`},
		{`{"kind":"hound","a":1}`, `{"kind":"hound","a":1}`},
		{`{"a":1,"kind":""}`, `{"kind":"dog","a":1}`},
		{`{"a":{"kind":"x"},"kind":"cat"}`, `{"kind":"dog","a":{"kind":"x"}}`},
		{`{}`, `{"kind":"dog"}`},
		{`null`, `null`},
	} {
		got, err := JSONWithTag([]byte(c.in), "kind", "dog", "hound")
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %s %v, want %s", c.in, got, err, c.want)
		}
	}
	if _, err := JSONWithTag([]byte(`{"a":`), "kind", "dog"); err == nil {
		t.Error("truncated object accepted")
	}
}
