package runtime

import (
	"net/http"
	"testing"
)

func TestOptHeader(t *testing.T) {
	h := http.Header{"X-N": {"7"}, "X-Bad": {"seven"}}
	var n, missing Opt[int64]
	if err := OptHeader(h, "X-N", ParseInt64, &n); err != nil || n != Some[int64](7) {
		t.Fatalf("%+v %v", n, err)
	}
	if err := OptHeader(h, "X-Missing", ParseInt64, &missing); err != nil || missing.Set {
		t.Fatalf("%+v %v", missing, err)
	}
	if err := OptHeader(h, "X-Bad", ParseInt64, &n); err == nil {
		t.Fatal("a malformed header accepted")
	}
}
