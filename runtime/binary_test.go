package runtime

import (
	"encoding/json"
	"testing"
)

func TestBinaryIsText(t *testing.T) {
	var b Binary
	if err := json.Unmarshal([]byte(`"not base64! \u00e9\n"`), &b); err != nil || string(b) != "not base64! é\n" {
		t.Fatalf("%q %v", b, err)
	}
	out, err := json.Marshal(b)
	if err != nil || string(out) != `"not base64! é\n"` {
		t.Fatalf("%s %v", out, err)
	}
	if err := json.Unmarshal([]byte(`4`), &b); err == nil {
		t.Fatal("a number accepted as binary content")
	}
}
